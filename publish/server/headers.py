"""Security headers on every response, in one place.

Every response: `X-Content-Type-Options: nosniff` (a browser never reads a JSON error or a tile as
HTML or script), `Referrer-Policy: same-origin`, and HSTS when the public URL is https. HTML
pages (the viewer, pygeoapi's pages) also get a Content-Security-Policy that lets them load
nothing but this server's own files — no inline script, no other host (the product runs on
intranets with no internet) — with what MapLibre needs (`blob:` workers, `data:`/`blob:` images),
and may not be framed. A header the endpoint set itself is kept: the build's self-contained
pages (review report, release diff) send one allowing their inline style by its hash (page_csp).

The tile fast path answers ahead of the middleware stack and adds the same headers with
`SecurityHeaders.extend` (publish.server.fastpath).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STYLE_SRC = "style-src 'self'"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        _STYLE_SRC,
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000"
_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
_HEAD_END = "</head>"


def page_csp(html: str) -> str:
    """The Content-Security-Policy for a self-contained page of ours (the review report, the
    release diff): the usual one, its style-src also allowing exactly the page's inline
    <style> elements by their sha256 hashes — never 'unsafe-inline'."""
    return content_security_policy(m.group(1) for m in _INLINE_STYLE.finditer(html))


def page_file_csp(path: Path, chunk: int = 65_536) -> str:
    """page_csp for a page on disk, reading it only as far as its </head>."""
    head = ""
    with open(path, encoding="utf-8", errors="replace") as file:
        while _HEAD_END not in head:
            more = file.read(chunk)
            if not more:
                break
            head += more
    return page_csp(head.split(_HEAD_END, 1)[0])


def content_security_policy(inline_styles: Iterable[str] = ()) -> str:
    """CONTENT_SECURITY_POLICY with style-src also allowing these inline styles (by hash)."""
    hashes = sorted(
        {
            "'sha256-"
            + base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
            + "'"
            for style in inline_styles
        }
    )
    if not hashes:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(_STYLE_SRC, " ".join([_STYLE_SRC, *hashes]), 1)


_CONTENT_TYPE = b"content-type"


def _missing(
    headers: list[tuple[bytes, bytes]], wanted: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    return [(name, value) for name, value in wanted if name not in present]


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers (see the module's text)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https
        self.always: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if https:
            self.always.append((b"strict-transport-security", HSTS.encode()))
        self.html = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-frame-options", b"DENY"),
        ]

    def extend(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Add the headers `headers` (a response's, ASGI style) lacks."""
        wanted = self.always
        for name, value in headers:
            if name.lower() == _CONTENT_TYPE and value.lower().startswith(b"text/html"):
                wanted = self.always + self.html
                break
        headers.extend(_missing(headers, wanted))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                self.extend(headers)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
