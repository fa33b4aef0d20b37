"""`create_app(settings)`: the whole server, assembled. Nothing is read before it is called.

The core (publish.server: settings, releases, the guard, the middleware stack, the core routes)
knows nothing of its wings; this module puts them together: the core's routes and each wing's
(the OGC API: publish.ogc; raster tiles: publish.raster; WMS/WMTS: publish.wms), the parts of a
release the wings load (`RELEASE_SERVICES`), and the guard's internal paths, derived from the
whole route table (publish.server.guard.InternalPaths).

How to add …
- an endpoint: a route in its wing's route list (or in publish.server.routes). If it serves
  internal data, its path says so — under /internal/…, or with an `{audience}` segment — and the
  guard, CORS and the fast path then ask for a token on it; nothing else is to be listed.
- a part of a release a wing serves from: its manifest key and loader in `RELEASE_SERVICES`;
  the loaded object is `audience.services[key]` for the requests of that release.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import MappingProxyType

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from publish.ogc.routes import ogc_routes
from publish.ogc.service import OGC_SERVICE, OgcService
from publish.raster.routes import raster_routes
from publish.server.auth import TokenStore
from publish.server.errors import exception_handlers
from publish.server.guard import InternalPaths
from publish.server.holder import ReleaseHolder
from publish.server.lifespan import lifespan
from publish.server.logs import AccessRecorder, quiet_pygeoapi
from publish.server.metrics import Metrics
from publish.server.release import ServiceLoader, load_release
from publish.server.routes import core_routes
from publish.server.settings import Settings
from publish.server.stack import middleware_stack
from publish.server.state import ServerState
from publish.server.tilecache import TileCache
from publish.wms.routes import wms_routes

# What the wings load of each release, by the audience entry's manifest key.
RELEASE_SERVICES: Mapping[str, ServiceLoader] = MappingProxyType(
    {OGC_SERVICE: OgcService.from_release}
)


def route_table() -> list[BaseRoute]:
    """Every route of the server: the core's and the wings'."""
    return [*core_routes(), *ogc_routes(), *raster_routes(), *wms_routes()]


def create_app(settings: Settings) -> Starlette:
    """The server for `settings`; its release loads at startup (the ASGI lifespan)."""
    state = ServerState(
        settings=settings,
        holder=ReleaseHolder(settings.tiles_dir, partial(load_release, services=RELEASE_SERVICES)),
        tile_cache=TileCache(settings.tile_cache_bytes),
        tokens=TokenStore(settings.tokens_file),
    )
    metrics = Metrics(state.tile_cache, state.holder)
    quiet_pygeoapi()
    table = route_table()
    app = Starlette(
        routes=table,
        middleware=middleware_stack(
            state, AccessRecorder(table, metrics), InternalPaths.from_routes(table)
        ),
        exception_handlers=exception_handlers(),
        lifespan=lifespan(state, metrics),
    )
    app.state.server = state
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """The factory `serve` hands to uvicorn (`factory=True`): settings from PUBLISH_* vars."""
    return create_app(Settings.from_env())
