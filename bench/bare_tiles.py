"""The floors for a Python tile server here, for bench/serve.py, both under uvicorn[standard]
answering tiles from a dict in memory (filled from the archive on first ask), no checks, no log:
`bench.bare_tiles:app`, one Starlette route; `bench.bare_tiles:raw`, a bare ASGI callable (no
framework: what uvicorn itself costs). The archive in BENCH_ARCHIVE."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

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


_RAW_HEADERS = [
    (b"content-type", b"application/vnd.mapbox-vector-tile"),
    (b"content-encoding", b"gzip"),
]
_raw: dict[str, bytes | None] = {}


async def raw(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path not in _raw:
        z, x, name = path.split("/")[-3:]
        _raw[path] = _archive.get(int(z), int(x), int(name.split(".")[0]))
    data = _raw[path]
    if data is None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [*_RAW_HEADERS, (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})
