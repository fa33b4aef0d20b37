"""`create_app(settings)`: the whole server, assembled. Nothing is read before it is called.

The core (publish.server: settings, releases, the guard, the middleware stack, the core routes)
knows nothing of its wings; this module puts them together: the core's routes and each wing's
(the OGC API: publish.ogc; raster tiles: publish.raster; WMS/WMTS: publish.wms; the monitoring
dashboard: publish.dashboard), the parts of a release it loads (the registry of release outputs,
publish.release.outputs), and the guard's internal paths, derived from the whole route table
(publish.server.guard.InternalPaths).

How to add …
- an endpoint: a route in its wing's route list (or in publish.server.routes). If it serves
  internal data, its path says so — under /internal/…, or with an `{audience}` segment — and the
  guard, CORS and the fast path then ask for a token on it; nothing else is to be listed.
- a part of a release (written by the build, checked, served): one module in
  publish.release.outputs declaring its `ReleaseOutput` (key, writer, check, loader) and one line
  in its `RELEASE_OUTPUTS`; what its loader returns is `audience.services[key]` for the requests
  of that release.
"""

from __future__ import annotations

from functools import partial

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from publish.dashboard.routes import dashboard_routes
from publish.ogc.routes import ogc_routes
from publish.raster.processes import (
    RendererCollector,
    close_shared_renderer,
    warm_shared_renderer,
)
from publish.raster.routes import raster_routes
from publish.release.outputs import KEPT_OUTPUTS, RELEASE_OUTPUTS
from publish.server.auth import TokenStore
from publish.server.errors import exception_handlers
from publish.server.guard import InternalPaths
from publish.server.holder import ReleaseHolder
from publish.server.kept import KeptReleases
from publish.server.lifespan import lifespan
from publish.server.logs import AccessRecorder, quiet_pygeoapi
from publish.server.memory import keep_large_buffers_mapped
from publish.server.metrics import Metrics
from publish.server.release import load_release
from publish.server.routes import core_routes
from publish.server.settings import Settings
from publish.server.stack import ServerApp, fast_path, middleware_stack
from publish.server.state import ServerState
from publish.server.tilecache import TileCache
from publish.wms.routes import wms_routes


def route_table() -> list[BaseRoute]:
    """Every route of the server: the core's and the wings'."""
    return [*core_routes(), *ogc_routes(), *raster_routes(), *wms_routes(), *dashboard_routes()]


def create_app(settings: Settings) -> ServerApp:
    """The server for `settings`; its release loads at startup (the ASGI lifespan)."""
    kept = KeptReleases(
        settings.tiles_dir,
        partial(load_release, outputs=KEPT_OUTPUTS),
        lambda: holder.current,
    )
    # the release a switch replaces stays open: the styles clients still draw name its tiles
    holder = ReleaseHolder(
        settings.tiles_dir, partial(load_release, outputs=RELEASE_OUTPUTS), on_swap=kept.hold
    )
    state = ServerState(
        settings=settings,
        holder=holder,
        kept=kept,
        tile_cache=TileCache(settings.tile_cache_bytes),
        tokens=TokenStore(settings.tokens_file),
    )
    metrics = Metrics(state.tile_cache, state.holder, extra=[RendererCollector()])
    quiet_pygeoapi()
    table = route_table()
    recorder, internal = AccessRecorder(table, metrics), InternalPaths.from_routes(table)
    app = ServerApp(
        routes=table,
        fast_path=fast_path(state, recorder, internal),
        middleware=middleware_stack(state, recorder, internal),
        exception_handlers=exception_handlers(),
        lifespan=lifespan(
            state,
            metrics,
            # the render processes start with the server (its first raster need not wait)
            on_start=[warm_shared_renderer] if settings.raster_warmup else [],
            # and stop with it, warmed or not: a worker that is itself a multiprocessing child
            # (granian's, uvicorn's with several workers) would wait for them at exit forever
            on_stop=[close_shared_renderer],
        ),
    )
    app.state.server = state
    app.state.metrics = metrics
    return app


def app_from_env() -> ASGIApp:
    """The factory `serve` hands to uvicorn and granian (`factory=True`): the app for the
    settings of the PUBLISH_* vars, as the servers run it (`ServerApp.entry`); the process keeps
    its label glyphs in the data folder (publish.fonts) and hands large buffers (WMS maps) back
    to the system when it frees them (publish.server.memory)."""
    from publish.fonts.glyphs import use_glyphs_dir

    keep_large_buffers_mapped()
    settings = Settings.from_env()
    use_glyphs_dir(settings.glyphs_dir)
    return create_app(settings).entry()
