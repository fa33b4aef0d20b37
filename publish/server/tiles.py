"""Endpoints for tiles and whole archives: /tiles/{audience}/{z}/{x}/{y}.mvt and
/tiles/{audience}.pmtiles. The lookup itself (publish.tiles.archive) knows nothing of HTTP."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from starlette.requests import Request
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable, Response
from starlette.types import Receive, Scope, Send

from publish.server.caching import etag_matches
from publish.server.context import request_context
from publish.server.errors import BadRequestError, NotFoundError, RangeNotSatisfiableError
from publish.server.release import PMTILES_MEDIA_TYPE, RELEASE_HEADER, AudienceRelease, Release
from publish.server.tilecache import TileCache
from publish.tiles.archive import TileStatus

_RELEASE_HEADER_NAME = RELEASE_HEADER.lower().encode()
TILE_EXTENSIONS = frozenset({"mvt", "pbf"})
_MAX_ZOOM = 31  # PMTiles and Web Mercator tile ids go no deeper
MAX_DIGITS = 10  # of each number in a tile path


def _integer(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS):
        raise BadRequestError(f"{what} must be a non-negative integer")
    return int(text)


def parse_tile_path(
    z: str,
    x: str,
    name: str,
    extensions: frozenset[str] = TILE_EXTENSIONS,
    max_zoom: int = _MAX_ZOOM,
) -> tuple[int, int, int]:
    """(z, x, y) from the last three path segments; BadRequestError for anything that is not a
    tile address with one of `extensions`, NotFoundError for a zoom deeper than `max_zoom` (by
    default the deepest any archive can hold)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext not in extensions:
        endings = " or ".join(f"{{y}}.{e}" for e in sorted(extensions))
        raise BadRequestError(f"a tile path ends in {endings}")
    return check_tile_address(_integer(z, "z"), _integer(x, "x"), _integer(stem, "y"), max_zoom)


def check_tile_address(z: int, x: int, y: int, max_zoom: int = _MAX_ZOOM) -> tuple[int, int, int]:
    """(z, x, y) if it can address a tile (`parse_tile_path`'s checks of the numbers)."""
    if z > max_zoom:
        raise NotFoundError(f"no tile here: zooms go to {max_zoom}")
    if x >= 1 << z or y >= 1 << z:
        raise BadRequestError(f"x and y must be below 2^z = {1 << z} at zoom {z}")
    return z, x, y


Header = tuple[bytes, bytes]  # as ASGI sends it: (lower-case name, value)


# A tile request's answer (200, 204 or 304) before it becomes a response: its status, its
# headers (no length) and its body
TileAnswer = tuple[int, list[Header], bytes]


class TileHeaders(NamedTuple):
    """What an audience's tile answers carry whatever the tile, encoded once (the fast path
    keeps them per audience: publish.server.fastpath): `every` answer's (Cache-Control, the
    release, and the `extra` given to `tile_headers`), and those of a 200 (`ok`: `every` and
    the content type and encoding)."""

    every: tuple[Header, ...]
    ok: tuple[Header, ...]


def tile_headers(
    release: Release, audience: AudienceRelease, cache_control: str, extra: Sequence[Header] = ()
) -> TileHeaders:
    """The tile-independent headers of `audience`'s answers from `release`."""
    archive = audience.archive
    content = [(b"content-type", archive.media_type.encode())]
    if archive.tile_compression:
        content.append((b"content-encoding", archive.tile_compression.encode()))
    every = (
        (b"cache-control", cache_control.encode()),
        (_RELEASE_HEADER_NAME, release.id.encode()),
    )
    return TileHeaders((*every, *extra), (*every, *extra, *content))


def tile_answer(
    cache: TileCache,
    audience: AudienceRelease,
    headers: TileHeaders,
    z: int,
    x: int,
    y: int,
    if_none_match: str | None,
) -> TileAnswer:
    """The answer for tile z/x/y of `audience` (NotFoundError outside its zooms or bounds), with
    `headers` (`tile_headers` of the audience). The one place tile answers are decided: the
    endpoint below and the fast path (publish.server.fastpath) both send what it returns."""
    result = cache.get(audience.archive, z, x, y)
    status = result.status
    if status is TileStatus.OK:
        etag = f'"{result.etag}"'
        if if_none_match is not None and etag_matches(if_none_match, etag):
            return 304, [*headers.every, (b"etag", etag.encode())], b""
        return 200, [*headers.ok, (b"etag", etag.encode())], result.data or b""
    if status is TileStatus.EMPTY:
        return 204, list(headers.every), b""
    raise NotFoundError("no tile here: outside the archive's zooms or bounds")


async def tile(request: Request) -> Response:
    params = request.path_params
    ctx = request_context(request, params["audience"])
    z, x, y = parse_tile_path(params["z"], params["x"], params["name"])
    headers = tile_headers(ctx.release, ctx.audience, ctx.tile_cache_control())
    status, raw_headers, body = tile_answer(
        ctx.state.tile_cache, ctx.audience, headers, z, x, y, request.headers.get("if-none-match")
    )
    response = Response(body, status_code=status)  # adds the length for a 200
    response.raw_headers.extend(raw_headers)
    return response


_INT_RANGE = re.compile(r"(\d+)-(\d*)")
_SUFFIX_RANGE = re.compile(r"-(\d+)")


def valid_byte_ranges(header: str) -> bool:
    """Whether `header` is a well-formed `bytes` Range (RFC 9110 §14.1.2): ranges `first-[last]`
    with first ≤ last, or `-suffix`, separated by commas. Satisfiable or not is another matter."""
    unit, eq, ranges = header.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return False
    found = False
    for part in ranges.split(","):
        part = part.strip(" \t")
        if not part:  # empty list elements are allowed (RFC 9110 §5.6.1)
            continue
        full = _INT_RANGE.fullmatch(part)
        if full is not None:
            if full.group(2) and int(full.group(2)) < int(full.group(1)):
                return False
        elif _SUFFIX_RANGE.fullmatch(part) is None:
            return False
        found = True
    return found


class _ArchiveResponse(FileResponse):
    """FileResponse that may be told to answer the whole file whatever the Range header says."""

    ignore_range = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ignore_range:
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"range"]}
        await super().__call__(scope, receive, send)


def _check_range(request: Request, response: _ArchiveResponse, size: int) -> None:
    """A malformed Range, or one in another unit, is ignored (the whole file, 200: RFC 9110
    §14.2 lets a server ignore it, and FileResponse would answer a plain-text 400); a
    well-formed one that no byte of the file satisfies is our JSON 416. FileResponse's own
    parser judges satisfiability, so both always agree."""
    http_range = request.headers.get("range")
    if http_range is None:
        return
    if not valid_byte_ranges(http_range):
        response.ignore_range = True
        return
    if_range = request.headers.get("if-range")
    if if_range is not None and not response._should_use_range(if_range):
        return
    try:
        response._parse_range_header(http_range, size)
    except MalformedRangeHeader:
        response.ignore_range = True
    except RangeNotSatisfiable:
        raise RangeNotSatisfiableError(size) from None


async def archive(request: Request) -> Response:
    """The whole PMTiles archive, for the pmtiles JS protocol: Range → 206, If-Range, HEAD."""
    ctx = request_context(request, request.path_params["audience"])
    state, release, audience = ctx.state, ctx.release, ctx.audience
    headers = {
        "Cache-Control": state.document_cache_control(audience.restricted),
        "ETag": audience.archive_etag,
        RELEASE_HEADER: release.id,
    }
    if etag_matches(request.headers.get("if-none-match"), audience.archive_etag):
        return Response(status_code=304, headers=headers)
    response = _ArchiveResponse(
        audience.archive_path,
        headers=headers,
        media_type=PMTILES_MEDIA_TYPE,
        stat_result=audience.archive_stat,
    )
    _check_range(request, response, audience.archive_stat.st_size)
    return response
