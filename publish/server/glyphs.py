"""GET /fonts/{fontstack}/{range}.pbf: label glyph ranges for the styles' `glyphs` URL.

The files come from publish.fonts (generated once, by `make install` or the first request).
They are sent gzip-compressed when the client accepts it (a Latin range is ~80 KB raw, ~40 KB
gzipped); the compressed bytes are kept for the life of the process (256 ranges at most).
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response

from publish.fonts import parse_range
from publish.fonts.glyphs import BadRangeError, range_file
from publish.server.caching import body_etag, etag_matches
from publish.server.errors import BadRequestError, NotFoundError

GLYPH_MEDIA_TYPE = "application/x-protobuf"
GLYPH_CACHE_CONTROL = "public, max-age=86400"


@lru_cache(maxsize=512)
def _bodies(path: Path, mtime_ns: int) -> tuple[bytes, bytes, str]:
    raw = path.read_bytes()
    return raw, gzip.compress(raw, 6, mtime=0), body_etag(raw)


def glyph_file(fontstack: str, name: str) -> Path:
    """The file for `{fontstack}/{name}`: BadRequestError for a name that is not
    `START-END.pbf`, NotFoundError for a fontstack or range we do not have. A CJK range is made
    on its first request (publish.fonts.range_file)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext != "pbf":
        raise BadRequestError("a glyph path ends in {start}-{end}.pbf")
    try:
        span = parse_range(stem)
    except BadRangeError as exc:
        raise BadRequestError(str(exc)) from exc
    path = None if span is None else range_file(fontstack, span[0])
    if path is None:
        raise NotFoundError()
    return path


async def glyphs(request: Request) -> Response:
    path = await anyio.to_thread.run_sync(
        glyph_file, request.path_params["fontstack"], request.path_params["name"]
    )
    raw, packed, etag = _bodies(path, path.stat().st_mtime_ns)
    headers = {"Cache-Control": GLYPH_CACHE_CONTROL, "ETag": etag, "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, headers=headers, media_type=GLYPH_MEDIA_TYPE)
    return Response(raw, headers=headers, media_type=GLYPH_MEDIA_TYPE)
