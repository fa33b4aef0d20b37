"""Vector tile requests answered ahead of Starlette's middleware stack and router.

Tiles are most of the traffic, and for a cached tile the stack around the endpoint cost more
than the answer itself (bench/serve.py: ~140 µs of CPU a request above a bare route). This pure
ASGI middleware, the outermost, answers `GET|HEAD /tiles/{audience}/{z}/{x}/{y}.mvt|pbf` and
the versioned `/releases/{release}/tiles/{audience}/{z}/{x}/{y}.mvt|pbf` (the URLs the TileJSON
and styles name) for an audience the request may see, when the release is the current one or
held open (publish.server.kept `opened`: nothing is loaded here), and passes every other request
on unchanged. It decides nothing of
its own: the answer comes from `tile_answer` (the endpoint's own: 200, 204, 304, or the 400/404 it
raises, turned into a response by `error_response` as the stack would), the token check from the
`TokenStore` (the guard's), CORS headers from the app's `CORSMiddleware`, security headers from
the app's `SecurityHeaders`, the request id, metrics
and access line from the `AccessRecorder` (RequestLog's). What it does not answer (no release,
an unknown audience, an internal tile without a valid token, a release to load first or not
kept, other methods, CORS preflights, an unexpected error) goes through the full stack, which
answers as for any other endpoint.
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publish.server.cors import AudienceCors
from publish.server.errors import ServerError, error_response
from publish.server.guard import InternalPaths
from publish.server.headers import SecurityHeaders
from publish.server.logs import REQUEST_ID_HEADER, AccessRecorder, request_id_from
from publish.server.state import ServerState
from publish.server.tiles import parse_tile_path, tile_answer

TILE_ROUTE = "/tiles/{audience}/{z}/{x}/{name}"  # the templates the router would name
RELEASE_TILE_ROUTE = "/releases/{release}/tiles/{audience}/{z}/{x}/{name}"
_PREFIXES = ("/tiles/", "/releases/")
_READ = frozenset({"GET", "HEAD"})
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_WANTED = {
    b"if-none-match": "if_none_match",
    b"authorization": "authorization",
    _REQUEST_ID: "request_id",
}


class TileFastPath:
    """Pure ASGI middleware: tile answers without the stack (see the module's text)."""

    def __init__(
        self,
        app: ASGIApp,
        state: ServerState,
        recorder: AccessRecorder,
        internal: InternalPaths,
        cors: AudienceCors | None = None,
        security: SecurityHeaders | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.recorder = recorder
        self.internal = internal
        self.cors = cors
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _READ
            or not scope["path"].startswith(_PREFIXES)
            or not await self._answer(scope, send)
        ):
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send) -> bool:
        """Send the answer and return True, or return False having sent nothing."""
        started = time.perf_counter()
        path: str = scope["path"]
        parts = path.split("/")
        if len(parts) == 6 and parts[1] == "tiles":  # "", "tiles", audience, z, x, name
            release, by_id = self.state.holder.current, False
        elif len(parts) == 8 and parts[1] == "releases" and parts[3] == "tiles":
            # "", "releases", id, "tiles", audience, z, x, name
            release, by_id = self.state.kept.opened(parts[2]), True
            parts = parts[2:]
        else:
            return False
        if release is None:
            return False
        audience = release.audiences.get(parts[2])
        if audience is None:
            return False
        found: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = _WANTED.get(name)
            if key is not None and key not in found:  # the first, as Starlette's Headers.get
                found[key] = value.decode("latin-1")
        if (audience.restricted or path in self.internal) and not self.state.tokens.is_authorized(
            found.get("authorization")
        ):
            return False  # the guard's 401
        try:
            z, x, y = parse_tile_path(parts[3], parts[4], parts[5])
            cache_control = self.state.kept_cache_control(audience.restricted) if by_id else None
            answer = tile_answer(
                self.state, release, audience, z, x, y, found.get("if_none_match"), cache_control
            )
        except ServerError as exc:  # what the endpoint raises for this request: its 400 or 404
            error = error_response(exc)
            status, headers, body = error.status_code, list(error.raw_headers), bytes(error.body)
            if self.security is not None:
                self.security.extend(headers)
        except Exception:
            return False  # not a tile answer: the stack meets the error again, answers and logs it
        else:
            status, headers, body = answer.status, answer.headers, answer.body
            if status == 200:
                headers.append((b"content-length", str(len(body)).encode()))
            if self.security is not None:  # a tile answer sets none of them and is never HTML
                headers.extend(self.security.always)
        request_id = request_id_from(found.get("request_id"), self.recorder.new_id)
        headers.append((_REQUEST_ID, request_id.encode()))
        start: Message = {"type": "http.response.start", "status": status, "headers": headers}
        try:
            cors = None if self.cors is None else self.cors.for_path(path)
            if cors is not None:  # the app's CORS middleware adds its headers, as it would
                await cors.send(start, send=send, request_headers=Headers(scope=scope))
            else:
                await send(start)
            await send({"type": "http.response.body", "body": body})
        finally:
            seconds = time.perf_counter() - started
            route = RELEASE_TILE_ROUTE if by_id else TILE_ROUTE
            self.recorder.record(scope, request_id, status, len(body), seconds, route)
        return True
