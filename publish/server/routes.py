"""The core's own routes: health, metrics, vector tiles, TileJSON, archives, styles, glyphs and
the viewer's pages. The wings add theirs (publish.ogc.routes, publish.raster.routes,
publish.wms.routes); publish.app puts them together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from publish.server.documents import healthz, style, tilejson
from publish.server.glyphs import glyphs
from publish.server.history import history_routes
from publish.server.metrics import metrics_endpoint
from publish.server.reviews import review_routes
from publish.server.state import server_state
from publish.server.tiles import archive, tile
from publish.server.viewer import viewer_routes

READ = ["GET", "HEAD"]  # Starlette adds HEAD to GET routes; listed for clarity
Endpoint = Callable[[Request], Awaitable[Response]]


def by_id(endpoint: Endpoint) -> Endpoint:
    """`endpoint` on the kept release the path names, loaded (on first use: its archives are
    verified, which takes a while) in a worker thread, not on the event loop; the current
    release and those held open go straight on."""

    async def on_kept_release(request: Request) -> Response:
        kept = server_state(request).kept
        release_id = str(request.path_params["release"])
        if kept.opened(release_id) is None:
            await anyio.to_thread.run_sync(kept.get, release_id)
        return await endpoint(request)

    return on_kept_release


def core_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=READ),
        Route("/internal/healthz", healthz, methods=READ),  # with the refusal's reason
        Route("/metrics", metrics_endpoint, methods=READ),
        Route("/tiles/{audience}/{z}/{x}/{name}", tile, methods=READ),
        Route("/tiles/{audience}.json", tilejson, methods=READ),
        Route("/tiles/{audience}.pmtiles", archive, methods=READ),
        Route("/styles/{audience}.json", style, methods=READ),
        # a kept release by id: read-only, immutable (publish.server.kept)
        Route("/releases/{release}/tiles/{audience}/{z}/{x}/{name}", by_id(tile), methods=READ),
        Route("/releases/{release}/tiles/{audience}.json", by_id(tilejson), methods=READ),
        Route("/releases/{release}/styles/{audience}.json", by_id(style), methods=READ),
        Route("/fonts/{fontstack}/{name}", glyphs, methods=READ),
        *history_routes(),
        *review_routes(),  # internal only: the review reports
        *viewer_routes(),
    ]
