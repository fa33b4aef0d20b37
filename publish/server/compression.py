"""gzip for JSON and HTML only: binary responses skip the compressor's wrapper altogether.

Starlette's GZipMiddleware already leaves alone a response that has a Content-Encoding, a 206 or
an excluded content type, but it still wraps every response's `send` and parses its headers
(~10 % of a tile request's time in bench/serve.py's profile). Requests whose path names a binary
format by its extension (tiles as stored, the PMTiles archive, rasters, glyphs) go straight to
the app instead.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

BINARY_SUFFIXES = (".mvt", ".pmtiles", ".pbf", ".png", ".jpeg", ".jpg", ".webp")


class TextGZip:
    """Pure ASGI middleware: GZipMiddleware for every path but the binary ones."""

    def __init__(
        self, app: ASGIApp, minimum_size: int, exclude_content_types: tuple[str, ...]
    ) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app, minimum_size=minimum_size, exclude_content_types=exclude_content_types
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(BINARY_SUFFIXES):
            await self.app(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)
