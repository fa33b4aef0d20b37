"""CORS from the settings only, by audience.

Public paths answer every configured origin (`*` included); internal paths only the origins named
one by one, so a `*` meant for the public map never opens staff answers to any site. The work is
Starlette's CORSMiddleware, one per audience (preflights, Vary: Origin, exposed headers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from publish.server.guard import InternalPaths


class AudienceCors:
    """Pure ASGI middleware: the public or the internal CORSMiddleware, by path."""

    def __init__(
        self,
        app: ASGIApp,
        internal: InternalPaths,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        self.app = app
        self.internal = internal
        options: dict[str, Any] = {
            "allow_methods": allow_methods,
            "allow_headers": allow_headers,
            "expose_headers": expose_headers,
            "max_age": max_age,
        }
        self.public: CORSMiddleware | None = None
        self.internal_cors: CORSMiddleware | None = None
        if allow_origins:
            self.public = CORSMiddleware(app, allow_origins=list(allow_origins), **options)
        named = [origin for origin in allow_origins if origin != "*"]
        if named:
            self.internal_cors = CORSMiddleware(app, allow_origins=named, **options)

    def for_path(self, path: str) -> CORSMiddleware | None:
        """The CORSMiddleware that answers `path` (None: no CORS there)."""
        return self.internal_cors if path in self.internal else self.public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cors = self.for_path(scope["path"]) if scope["type"] == "http" else None
        await (self.app if cors is None else cors)(scope, receive, send)
