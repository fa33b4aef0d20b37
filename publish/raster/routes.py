"""GET /raster/{audience}/{z}/{x}/{y}.png: the whole planning map of the release a request
started on, rendered from that release's style (no cache of ours: MapLibre Native keeps the
vector tiles it read; the cached raster tiles are MapProxy's, at /wmts)."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from publish.raster.processes import shared_renderer
from publish.raster.style import PLAN, rendering_style, style_key
from publish.raster.tiles import check_raster_tile, parse_raster_path
from publish.server.caching import etag_matches
from publish.server.context import request_context
from publish.server.release import RELEASE_HEADER

READ = ["GET", "HEAD"]


async def raster_tile(request: Request) -> Response:
    params = request.path_params
    ctx = request_context(request, params["audience"])
    state, release, audience = ctx.state, ctx.release, ctx.audience
    z, x, y = parse_raster_path(params["z"], params["x"], params["name"])
    check_raster_tile(audience.archive, z, x, y)
    # A release never changes, so its tile z/x/y never does: the ETag names them, and a
    # revalidation is answered without rendering.
    etag = f'"{release.id}.{audience.name}.{z}.{x}.{y}"'
    headers = {
        "Cache-Control": state.tile_cache_control(audience.restricted),
        RELEASE_HEADER: release.id,
        "ETag": etag,
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    make_style = partial(rendering_style, audience.style, audience.archive_path, PLAN)
    async with state.renderings.slot():
        png = await shared_renderer().arender_tile(
            style_key(release.id, audience.name), make_style, z, x, y
        )
    return Response(png, headers=headers, media_type="image/png")


def raster_routes() -> list[BaseRoute]:
    return [Route("/raster/{audience}/{z}/{x}/{name}", raster_tile, methods=READ)]
