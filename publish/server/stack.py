"""The middleware stack, outermost first:

1. the tile fast path: vector tile requests answered without the rest of the stack, with the
   same headers, log and metrics (publish.server.fastpath), ahead of Starlette's own error
   middleware too, and of Starlette's own call when a server runs `ServerApp.entry()`;
2. X-Forwarded-For/-Proto applied from the trusted proxies only (`Settings.trusted_proxies`),
   by uvicorn's ProxyHeadersMiddleware, under either ASGI server (the fast path asks the same
   middleware for the client of its own access lines);
3. the security headers: nosniff, Referrer-Policy, CSP on HTML, HSTS (publish.server.headers);
4. the request log: request id, one JSON access line, metrics (publish.server.logs);
5. the Host check: only configured hosts are answered, so no URL is built from a client's Host
   (the fast path asks the same check, publish.server.hosts, and leaves refused ones to it);
6. CORS, by audience, when origins are configured: it answers preflights and adds its headers to
   every response, 401s included (publish.server.cors);
7. gzip for JSON and HTML (tiles keep their stored Content-Encoding; the .pmtiles archive and its
   206 ranges are never touched);
8. the audience guard: 401 for internal paths without a token (publish.server.guard);
then Starlette's routing with our error table.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from publish.server.compression import TextGZip
from publish.server.cors import AudienceCors
from publish.server.fastpath import TileFastPath
from publish.server.guard import AudienceGuard, InternalPaths
from publish.server.headers import SecurityHeaders
from publish.server.hosts import HostCheck
from publish.server.logs import AccessRecorder, RequestLog
from publish.server.release import PMTILES_MEDIA_TYPE
from publish.server.settings import Settings
from publish.server.state import ServerState

READ = ["GET", "HEAD"]
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


async def _unreachable(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("not an app: stands in where an ASGI app is required and never called")


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the fast path's ProxyHeadersMiddleware: the middleware's work is its
    change to the request's scope."""


def _cors_options(settings: Settings, internal: InternalPaths) -> dict[str, Any]:
    return {
        "internal": internal,
        "allow_origins": settings.cors_origins,
        "allow_methods": CORS_METHODS,
        "allow_headers": CORS_ALLOW_HEADERS,
        "expose_headers": CORS_EXPOSE,
        "max_age": 3600,
    }


def _https(settings: Settings) -> bool:
    return (settings.public_url or "").startswith("https://")


def fast_path(state: ServerState, recorder: AccessRecorder, internal: InternalPaths) -> Middleware:
    """1. above (for `ServerApp(fast_path=…)`)."""
    settings = state.settings
    # it adds CORS and security headers with these instances' own code
    cors = None
    if settings.cors_origins:
        cors = AudienceCors(_unreachable, **_cors_options(settings, internal))
    return Middleware(
        TileFastPath,
        state=state,
        recorder=recorder,
        internal=internal,
        cors=cors,
        security=SecurityHeaders(_unreachable, https=_https(settings)),
        hosts=HostCheck(settings.hosts),
        forwarded=_forwarded(_nothing, settings) if settings.trusted_proxies else None,
    )


def _forwarded(app: ASGIApp, settings: Settings) -> ASGIApp:
    """2. above, in front of `app`."""
    # uvicorn types ASGI with its own TypedDicts, Starlette with mappings: the same protocol
    trusted = list(settings.trusted_proxies)
    return ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type,return-value]


def middleware_stack(
    state: ServerState, recorder: AccessRecorder, internal: InternalPaths
) -> list[Middleware]:
    """2.–8. above (for `ServerApp(middleware=…)`)."""
    settings = state.settings
    return [
        *([Middleware(_forwarded, settings=settings)] if settings.trusted_proxies else []),
        Middleware(SecurityHeaders, https=_https(settings)),
        Middleware(RequestLog, recorder=recorder),
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.hosts, www_redirect=False),
        Middleware(AudienceCors, **_cors_options(settings, internal)),
        Middleware(TextGZip, minimum_size=GZIP_MINIMUM_SIZE, exclude_content_types=GZIP_EXCLUDED),
        Middleware(AudienceGuard, tokens=state.tokens, internal=internal),
    ]


class ServerApp(Starlette):
    """Starlette with the fast path (`fast_path`) in front of all its middleware, its own
    outermost one (ServerErrorMiddleware: a 500 for an unexpected error) included: a tile
    answer passes through nothing else. The fast path sends nothing for a request it fails on,
    and leaves that request to the stack, which answers it as any other.

    `entry()` is what the ASGI servers run: the same stack without Starlette's own call in
    front of it (a coroutine a request less); what the fast path passes on is given the app's
    scope entry there, as Starlette's call gives it."""

    def __init__(self, *args: Any, fast_path: Middleware, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast_path = fast_path

    def build_middleware_stack(self) -> ASGIApp:
        cls, args, kwargs = self.fast_path
        return cls(_WithApp(super().build_middleware_stack(), self), *args, **kwargs)

    def entry(self) -> ASGIApp:
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        return self.middleware_stack


class _WithApp:
    """Pure ASGI middleware: `starlette` as the scope's app, as Starlette's call sets it."""

    def __init__(self, app: ASGIApp, starlette: Starlette) -> None:
        self.app = app
        self.starlette = starlette

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.starlette
        await self.app(scope, receive, send)
