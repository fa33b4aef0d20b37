"""`create_app(settings)`: the Starlette application. Nothing is read before it is called.

Middleware, outermost first: CORS (when origins are configured; it answers preflights and adds
its headers to every response, 401s included), then the audience guard (401 for internal paths
without a token), then Starlette's routing with our error table. The OGC API (pygeoapi) is mounted
per audience at /ogc and /internal/ogc (publish.ogc.routes); the guard already covers /internal/….
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Route

from publish.ogc.routes import ogc_routes
from publish.server.auth import TokenStore
from publish.server.documents import healthz, style, tilejson
from publish.server.errors import exception_handlers
from publish.server.guard import AudienceGuard
from publish.server.holder import ReleaseHolder
from publish.server.settings import Settings
from publish.server.state import ServerState
from publish.server.tilecache import TileCache
from publish.server.tiles import archive, tile

log = logging.getLogger("publish.server")

READ = ["GET", "HEAD"]  # Starlette adds HEAD to GET routes; listed for clarity
CORS_EXPOSE = ["ETag", "Content-Range", "Content-Length", "Accept-Ranges", "Content-Encoding"]
CORS_ALLOW_HEADERS = ["Authorization", "Range", "If-None-Match", "If-Range", "If-Match"]


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=READ),
        Route("/tiles/{audience}/{z}/{x}/{name}", tile, methods=READ),
        Route("/tiles/{audience}.json", tilejson, methods=READ),
        Route("/tiles/{audience}.pmtiles", archive, methods=READ),
        Route("/styles/{audience}.json", style, methods=READ),
        *ogc_routes(),
    ]


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


def _lifespan(
    state: ServerState,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        holder = state.holder
        await anyio.to_thread.run_sync(holder.check)
        remove_sighup = _install_sighup(holder.wake)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(holder.watch, state.settings.reload_interval_s)
                yield
                tasks.cancel_scope.cancel()
        finally:
            remove_sighup()

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
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=READ,
                allow_headers=CORS_ALLOW_HEADERS,
                expose_headers=CORS_EXPOSE,
                max_age=3600,
            )
        )
    middleware.append(Middleware(AudienceGuard, tokens=tokens))
    app = Starlette(
        routes=routes(),
        middleware=middleware,
        exception_handlers=exception_handlers(),
        lifespan=_lifespan(state),
    )
    app.state.server = state
    return app


def app_from_env() -> Starlette:
    """The factory `serve` hands to uvicorn (`factory=True`): settings from PUBLISH_* vars."""
    return create_app(Settings.from_env())
