"""`create_app(settings)`: the Starlette application. Nothing is read before it is called.

Middleware, outermost first: the tile fast path (vector tile requests answered without the rest of
the stack, with the same headers, log and metrics; publish.server.fastpath), the security headers
(nosniff, CSP on HTML, …; publish.server.headers), the request log (request id, one JSON access
line, metrics; see publish.server.logs), the Host check (only configured hosts are answered, so
no URL is built from a client's Host; tiles, which name no URL, are answered by the fast path
before it), CORS (when origins are configured, by audience: publish.server.cors; it answers
preflights and adds its headers to every response, 401s included), gzip for
JSON and HTML (tiles keep their stored Content-Encoding; the .pmtiles archive and its 206 ranges
are never touched), then the audience guard (401 for internal paths without a token), then
Starlette's routing with our error table. The OGC API (pygeoapi) is mounted per audience at /ogc
and /internal/ogc (publish.ogc.routes); the guard already covers /internal/….
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from publish.ogc.routes import ogc_routes
from publish.raster.routes import raster_routes
from publish.server.auth import TokenStore
from publish.server.compression import TextGZip
from publish.server.cors import AudienceCors
from publish.server.documents import healthz, style, tilejson
from publish.server.errors import exception_handlers
from publish.server.fastpath import TileFastPath
from publish.server.glyphs import glyphs
from publish.server.guard import AudienceGuard
from publish.server.headers import SecurityHeaders
from publish.server.holder import ReleaseHolder
from publish.server.logs import (
    ACCESS_FLUSH_S,
    AccessRecorder,
    RequestLog,
    flush_access_log,
    quiet_pygeoapi,
)
from publish.server.metrics import Metrics, metrics_endpoint
from publish.server.release import PMTILES_MEDIA_TYPE
from publish.server.settings import Settings
from publish.server.state import ServerState
from publish.server.tilecache import TileCache
from publish.server.tiles import archive, tile
from publish.server.viewer import viewer_routes
from publish.wms.routes import wms_routes

log = logging.getLogger("publish.server")

READ = ["GET", "HEAD"]  # Starlette adds HEAD to GET routes; listed for clarity
CORS_METHODS = [*READ, "POST"]  # POST: process execution (the site check)
CORS_EXPOSE = [
    "ETag",
    "Content-Range",
    "Content-Length",
    "Accept-Ranges",
    "Content-Encoding",
    "X-Request-ID",
]
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Range",
    "If-None-Match",
    "If-Range",
    "If-Match",
    "X-Request-ID",
]
GZIP_MINIMUM_SIZE = 1024  # smaller bodies gain little and cost a compressor each
# Binary formats go out as they are (tiles are stored compressed, with Content-Encoding; the
# archive is read by Range). GZipMiddleware also leaves alone any response that already has a
# Content-Encoding and every 206.
GZIP_EXCLUDED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    PMTILES_MEDIA_TYPE,
    "application/vnd.mapbox-vector-tile",
    "application/x-protobuf",
    "application/octet-stream",
    "image/*",
)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=READ),
        Route("/internal/healthz", healthz, methods=READ),  # with the refusal's reason
        Route("/metrics", metrics_endpoint, methods=READ),
        Route("/tiles/{audience}/{z}/{x}/{name}", tile, methods=READ),
        Route("/tiles/{audience}.json", tilejson, methods=READ),
        Route("/tiles/{audience}.pmtiles", archive, methods=READ),
        Route("/styles/{audience}.json", style, methods=READ),
        Route("/fonts/{fontstack}/{name}", glyphs, methods=READ),
        *viewer_routes(),
        *ogc_routes(),
        *raster_routes(),
        *wms_routes(),
    ]


async def _unreachable(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("not an app: stands in where an ASGI app is required and never called")


def _install_sighup(callback: Callable[[], None]) -> Callable[[], None]:
    """SIGHUP → callback, when the loop runs in the main thread; returns the undo."""
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is None:
        return lambda: None
    try:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(sighup, callback)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread (tests)
        return lambda: None

    def remove() -> None:
        loop.remove_signal_handler(sighup)

    return remove


def _freeze_startup_objects() -> None:
    """Move everything alive after startup (the libraries, the first release) out of the
    garbage collector's sight. A full collection walks every tracked object: ~100 ms here with
    pygeoapi, MapProxy and GeoPandas loaded, paid by whichever request triggers it — most of
    the tiles' p99. Frozen objects are still freed by reference counting; only cycles among
    them are kept (these live as long as the process anyway)."""
    gc.collect()
    gc.freeze()


async def _flush_every(seconds: float, metrics: Metrics) -> None:
    """Write the waiting access lines, and the tile cache's counts to the shared metrics."""
    while True:
        await anyio.sleep(seconds)
        flush_access_log()
        metrics.sync()


def _lifespan(
    state: ServerState, metrics: Metrics
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        holder = state.holder
        await anyio.to_thread.run_sync(holder.check)
        _freeze_startup_objects()
        remove_sighup = _install_sighup(holder.wake)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(holder.watch, state.settings.reload_interval_s)
                tasks.start_soon(_flush_every, ACCESS_FLUSH_S, metrics)
                yield
                tasks.cancel_scope.cancel()
        finally:
            remove_sighup()
            flush_access_log()
            metrics.sync()

    return lifespan


def create_app(settings: Settings) -> Starlette:
    """The server for `settings`; its release loads at startup (the ASGI lifespan)."""
    tokens = TokenStore(settings.tokens_file)
    state = ServerState(
        settings=settings,
        holder=ReleaseHolder(settings.tiles_dir),
        tile_cache=TileCache(settings.tile_cache_bytes),
        tokens=tokens,
    )
    metrics = Metrics(state.tile_cache, state.holder)
    quiet_pygeoapi()
    table = routes()
    recorder = AccessRecorder(table, metrics)
    cors_options: dict[str, Any] = {
        "allow_origins": settings.cors_origins,
        "allow_methods": CORS_METHODS,
        "allow_headers": CORS_ALLOW_HEADERS,
        "expose_headers": CORS_EXPOSE,
        "max_age": 3600,
    }
    cors = AudienceCors(_unreachable, **cors_options)
    security = SecurityHeaders(
        _unreachable, https=(settings.public_url or "").startswith("https://")
    )
    # the fast path adds CORS and security headers with these instances' own code
    middleware = [
        Middleware(TileFastPath, state=state, recorder=recorder, cors=cors, security=security),
        Middleware(SecurityHeaders, https=security.https),
        Middleware(RequestLog, recorder=recorder),
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.hosts, www_redirect=False),
        Middleware(AudienceCors, **cors_options),
    ]
    middleware.append(
        Middleware(TextGZip, minimum_size=GZIP_MINIMUM_SIZE, exclude_content_types=GZIP_EXCLUDED)
    )
    middleware.append(Middleware(AudienceGuard, tokens=tokens))
    app = Starlette(
        routes=table,
        middleware=middleware,
        exception_handlers=exception_handlers(),
        lifespan=_lifespan(state, metrics),
    )
    app.state.server = state
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """The factory `serve` hands to uvicorn (`factory=True`): settings from PUBLISH_* vars."""
    return create_app(Settings.from_env())
