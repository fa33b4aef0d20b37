"""The audience guard: every internal path needs a valid token, checked before any routing, so
that nothing about an internal path (not even whether it exists) is told without one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from publish.domain import INTERNAL
from publish.server.auth import TokenStore
from publish.server.errors import NotFoundError, UnauthorizedError, error_response
from publish.server.release import AudienceRelease, Release

AUTHORIZED = "onemap.authorized"  # set in the ASGI scope once a request's token is checked
INTERNAL_MOUNT = "/internal"
AUDIENCE_PARAM = "{audience}"
_PARAM = re.compile(r"(\{[^}]*\})")  # a path parameter, kept by re.split
# The internal viewer's page (publish.server.viewer) and the internal dashboard's
# (publish.dashboard): the same static pages as the public ones, holding no data. A browser
# cannot send a Bearer token when it navigates, so the page itself is open; it asks for the
# token and sends it with every request it makes, which the guard checks.
OPEN_INTERNAL_PAGES = frozenset({"/internal/", "/internal/dashboard"})


def _templates(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        if isinstance(route, Mount):
            yield path
            yield from _templates(route.routes, path)
        else:
            yield path


class InternalPaths:
    """The paths that need a token, derived from the route table, so that no internal endpoint
    can be forgotten: a route's path says its audience. Everything under /internal is internal,
    and so is the internal value of a route's `{audience}` segment (/tiles/{audience}.json →
    /tiles/internal…, /raster/{audience}/… → /raster/internal…,
    /releases/{release}/tiles/{audience}/… → /releases/<any id>/tiles/internal…)."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        self.prefixes = tuple(sorted(set(prefixes)))
        # a prefix matches the path's start, then its end or a / or . ({param}: one segment)
        patterns = (
            "".join(
                "[^/]+" if part.startswith("{") else re.escape(part) for part in _PARAM.split(p)
            )
            for p in self.prefixes
        )
        self._match = re.compile("(?:" + "|".join(patterns) + ")(?:$|[/.])").match

    @classmethod
    def from_routes(cls, routes: Iterable[BaseRoute]) -> InternalPaths:
        prefixes = []
        for template in _templates(routes):
            if template == INTERNAL_MOUNT or template.startswith(INTERNAL_MOUNT + "/"):
                prefixes.append(INTERNAL_MOUNT)
            elif AUDIENCE_PARAM in template:
                prefixes.append(template[: template.index(AUDIENCE_PARAM)] + INTERNAL)
        return cls(prefixes)

    def __contains__(self, path: object) -> bool:
        """Whether `path` is one of the prefixes or below one (followed by /, . or nothing)."""
        return isinstance(path, str) and bool(self.prefixes) and self._match(path) is not None


class AudienceGuard:
    """Pure ASGI middleware: 401 for an internal path without a valid token."""

    def __init__(self, app: ASGIApp, tokens: TokenStore, internal: InternalPaths) -> None:
        self.app = app
        self.tokens = tokens
        self.internal = internal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path in self.internal and path not in OPEN_INTERNAL_PAGES:
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
