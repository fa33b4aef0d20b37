"""GET /fonts/{fontstack}/{range}.pbf: label glyph ranges for the styles' `glyphs` URL.

The files come from publish.fonts (generated once, by `make install` or the first request).
They are sent gzip-compressed when the client accepts it (a Latin range is ~80 KB raw, ~40 KB
gzipped); the compressed bytes are kept for the life of the process (256 ranges at most).

The styles name the glyphs with their version (`?v=<publish.fonts.glyphs_version()>`, see
`with_glyphs_version`): such a URL is answered `immutable`, for a year, since the bytes it
names never change. Without the version, or with another one (a style cached from before the
fonts changed), the range is still answered, for a day.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from publish.fonts import parse_range
from publish.fonts.glyphs import BadRangeError, FontMissingError, glyphs_version, range_file
from publish.server.caching import body_etag, etag_matches
from publish.server.errors import BadRequestError, NotFoundError

GLYPH_MEDIA_TYPE = "application/x-protobuf"
GLYPH_CACHE_CONTROL = "public, max-age=86400"  # a glyph URL without its version
VERSIONED_GLYPH_CACHE_CONTROL = "public, max-age=31536000, immutable"
VERSION_PARAM = "v"

log = logging.getLogger("publish.server")


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


def with_glyphs_version(style: Mapping[str, Any]) -> dict[str, Any]:
    """`style` with its `glyphs` URL versioned (`?v=…`), so that every cache may keep the
    ranges for good; unchanged when it has no glyphs, or when the fonts are missing (its glyph
    requests fail then anyway, and the style keeps drawing everything but labels)."""
    doc = dict(style)
    url = doc.get("glyphs")
    if not isinstance(url, str):
        return doc
    try:
        version = glyphs_version()
    except FontMissingError as exc:
        log.warning("glyph URLs go out without a version: %s", exc)
        return doc
    doc["glyphs"] = f"{url}{'&' if '?' in url else '?'}{VERSION_PARAM}={version}"
    return doc


def glyph_cache_control(version: str | None) -> str:
    """Immutable for the ranges' current `version`, a day for any other URL."""
    if version is not None and version == glyphs_version():
        return VERSIONED_GLYPH_CACHE_CONTROL
    return GLYPH_CACHE_CONTROL


def _lookup(fontstack: str, name: str, version: str | None) -> tuple[Path, str]:
    """The range's file and Cache-Control (in a worker thread: either may read the fonts)."""
    return glyph_file(fontstack, name), glyph_cache_control(version)


async def glyphs(request: Request) -> Response:
    params = request.path_params
    path, cache_control = await anyio.to_thread.run_sync(
        _lookup, params["fontstack"], params["name"], request.query_params.get(VERSION_PARAM)
    )
    raw, packed, etag = _bodies(path, path.stat().st_mtime_ns)
    headers = {"Cache-Control": cache_control, "ETag": etag, "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, headers=headers, media_type=GLYPH_MEDIA_TYPE)
    return Response(raw, headers=headers, media_type=GLYPH_MEDIA_TYPE)
