"""The floor for a Python tile server here, for bench/serve.py: one Starlette route under
uvicorn[standard] answering tiles from a dict in memory (filled from the archive on first ask), no
middleware, no checks, no log. `bench.bare_tiles:app`, the archive in BENCH_ARCHIVE."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from publish.tiles.archive import Archive

_archive = Archive(os.environ["BENCH_ARCHIVE"])
_tiles: dict[tuple[int, int, int], bytes | None] = {}
_HEADERS = {"Content-Encoding": "gzip"}


async def tile(request: Request) -> Response:
    p = request.path_params
    key = (int(p["z"]), int(p["x"]), int(p["name"].split(".")[0]))
    data = _tiles.get(key)
    if data is None:
        data = _tiles[key] = _archive.get(*key)
    if data is None:
        return Response(status_code=204)
    return Response(data, media_type="application/vnd.mapbox-vector-tile", headers=_HEADERS)


app = Starlette(routes=[Route("/tiles/public/{z}/{x}/{name}", tile)])
