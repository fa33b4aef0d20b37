"""The audience guard: every internal path needs a valid token, checked before any routing, so
that nothing about an internal path (not even whether it exists) is told without one."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from publish.server.auth import TokenStore
from publish.server.errors import NotFoundError, UnauthorizedError, error_response
from publish.server.release import AudienceRelease, Release

AUTHORIZED = "onemap.authorized"  # set in the ASGI scope once a request's token is checked
_INTERNAL_PREFIXES = ("/internal", "/tiles/internal", "/styles/internal", "/raster/internal")
# The internal viewer's page (publish.server.viewer): the same static page as the public one,
# holding no data. A browser cannot send a Bearer token when it navigates, so the page itself is
# open; it asks for the token and sends it with every request it makes, which the guard checks.
OPEN_INTERNAL_PAGES = frozenset({"/internal/"})


def is_internal_path(path: str) -> bool:
    """/internal…, /tiles/internal…, /styles/internal… and /raster/internal… (followed by /, .
    or nothing)."""
    for prefix in _INTERNAL_PREFIXES:
        if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] in "/."):
            return True
    return False


class AudienceGuard:
    """Pure ASGI middleware: 401 for an internal path without a valid token."""

    def __init__(self, app: ASGIApp, tokens: TokenStore) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and is_internal_path(path) and path not in OPEN_INTERNAL_PAGES:
            if not self.tokens.is_authorized(Headers(scope=scope).get("authorization")):
                await error_response(UnauthorizedError())(scope, receive, send)
                return
            scope = {**scope, AUTHORIZED: True}
        await self.app(scope, receive, send)


def audience_for(request: Request, release: Release, name: str) -> AudienceRelease:
    """The audience `name` of `release`, if this request may see it; else the same 404 as for
    a name that never existed (an internal audience reached by any path trick included)."""
    audience = release.audiences.get(name)
    if audience is None or (audience.restricted and not request.scope.get(AUTHORIZED)):
        raise NotFoundError()
    return audience
