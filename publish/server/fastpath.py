"""Vector tile requests answered ahead of Starlette's middleware stack and router.

Tiles are most of the traffic, and for a cached tile the stack around the endpoint cost more
than the answer itself (bench/serve.py: ~140 µs of CPU a request above a bare route). This pure
ASGI middleware, the outermost, answers `GET|HEAD /tiles/{audience}/{z}/{x}/{y}.mvt|pbf` and
the versioned `/releases/{release}/tiles/{audience}/{z}/{x}/{y}.mvt|pbf` (the URLs the TileJSON
and styles name) for an audience the request may see, when the release is the current one or
held open (publish.server.kept `opened`: nothing is loaded here), and passes every other request
on unchanged. It decides nothing of its own: the answer comes from `tile_answer` (the
endpoint's own: 200, 204, 304, or the 400/404 it raises, turned into a response by
`error_response` as the stack would), the Host check from the stack's TrustedHostMiddleware
(`HostCheck`), the token check from the `TokenStore` (the guard's), CORS headers from the app's
`CORSMiddleware`, security headers from the app's `SecurityHeaders`, the request id, metrics
and access line from the `AccessRecorder` (RequestLog's), the access line's client from the
stack's ProxyHeadersMiddleware (`forwarded`: asked when the request has an X-Forwarded-For or
-Proto header). What it does not answer (no release,
an unknown audience, a Host the app does not answer, an internal tile without a valid token, a
release to load first or not kept, other methods, CORS preflights, an unexpected error) goes
through the full stack, which answers as for any other endpoint.

What a tile answer carries whatever the tile (`tile_headers`: Cache-Control, the release, the
content type and encoding, the security headers) is encoded once per audience and kept, so a
cached tile costs a dictionary lookup or two, its ETag, length and request id.
"""

from __future__ import annotations

import re
import time
import weakref
from contextlib import suppress
from functools import lru_cache
from typing import Any, NamedTuple

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publish.server.cors import AudienceCors
from publish.server.errors import ServerError, error_response
from publish.server.guard import InternalPaths
from publish.server.headers import SecurityHeaders
from publish.server.hosts import HostCheck
from publish.server.logs import REQUEST_ID_HEADER, AccessRecorder, request_id_from
from publish.server.release import AudienceRelease, Release
from publish.server.state import ServerState
from publish.server.tiles import (
    MAX_DIGITS,
    TILE_EXTENSIONS,
    TileHeaders,
    check_tile_address,
    parse_tile_path,
    tile_answer,
    tile_headers,
)

TILE_ROUTE = "/tiles/{audience}/{z}/{x}/{name}"  # the templates the router would name
RELEASE_TILE_ROUTE = "/releases/{release}/tiles/{audience}/{z}/{x}/{name}"
_PREFIXES = ("/tiles/", "/releases/")
_READ = frozenset({"GET", "HEAD"})
# The routes' shape: an optional /releases/{release}, then /tiles/{audience}/ and the address:
# a well-formed one (groups 4–6: z, x, y, as `parse_tile_path` reads them), or any three
# segments (group 3: `parse_tile_path` says what is wrong with them).
_NUMBER = f"([0-9]{{1,{MAX_DIGITS}}})"
_TILE_PATH = re.compile(
    r"/(?:releases/([^/]*)/)?tiles/([^/]*)/"
    rf"({_NUMBER}/{_NUMBER}/{_NUMBER}\.(?:{'|'.join(sorted(TILE_EXTENSIONS))})|[^/]*/[^/]*/[^/]*)"
)
_PATHS_KEPT = 16384  # tile paths whose reading is remembered (`_parsed`): ~4 MB at most
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
# the request headers read, by their place in the list a request fills
_IF_NONE_MATCH, _AUTHORIZATION, _ID, _HOST, _FORWARDED = range(5)
_WANTED = {b"if-none-match": _IF_NONE_MATCH, b"authorization": _AUTHORIZATION, _REQUEST_ID: _ID}
_FORWARDED_HEADERS = (b"x-forwarded-for", b"x-forwarded-proto")
_KEPT = 32  # audiences whose answers' parts are kept (forgotten all at once when full)


@lru_cache(maxsize=_PATHS_KEPT)
def _parsed(path: str) -> tuple[str | None, str, str, tuple[int, int, int] | None] | None:
    """What a tile path names: the release (None: the current one), the audience, the address
    (the path's last three segments) and its (z, x, y), None when those are not a tile's (the
    request then gets `parse_tile_path`'s 400 or 404 for them, once the audience is known to be
    the request's to see); None for a path of another shape. Remembered: popular tiles are
    asked again and again, and the regular expression and the numbers cost more than a lookup."""
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        return None
    release_id, name, address, z, x, y = match.groups()
    zxy = None
    if z is not None:
        with suppress(ServerError):
            zxy = check_tile_address(int(z), int(x), int(y))
    return release_id, name, address, zxy


class _Kept(NamedTuple):
    """What the fast path keeps for one audience of a release, reached by its URLs or by id."""

    audience: weakref.ref[AudienceRelease]  # not kept alive by this
    headers: TileHeaders
    needs_token: bool  # restricted, or its tile paths are internal (publish.server.guard)


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
        hosts: HostCheck | None = None,
        forwarded: ASGIApp | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.recorder = recorder
        self.internal = internal
        self.cors = cors
        self.security = security
        self.hosts = None if hosts is None or hosts.allow_any else hosts
        self._wanted = dict(_WANTED)
        if self.hosts is not None:
            self._wanted[b"host"] = _HOST
        self.forwarded = forwarded
        if forwarded is not None:
            self._wanted.update(dict.fromkeys(_FORWARDED_HEADERS, _FORWARDED))
        self._kept: dict[tuple[int, bool], _Kept] = {}  # by (id of the audience, by id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One coroutine a tile: what the fast path does not answer goes on to the stack from
        # each point where it is known (`return await self.app(...)`).
        if scope["type"] != "http" or scope["method"] not in _READ:
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if not path.startswith(_PREFIXES):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        parsed = _parsed(path)
        if parsed is None:
            return await self.app(scope, receive, send)
        release_id, name, address, zxy = parsed
        by_id = release_id is not None
        state = self.state
        release = state.holder.current if release_id is None else state.kept.opened(release_id)
        if release is None:
            return await self.app(scope, receive, send)
        audience = release.audiences.get(name)
        if audience is None:
            return await self.app(scope, receive, send)
        found: list[Any] = [None, None, None, None, None]
        wanted = self._wanted
        for header, value in scope["headers"]:
            i = wanted.get(header)
            if i is not None and found[i] is None:  # the first, as Starlette's Headers.get
                found[i] = value
        hosts = self.hosts
        if hosts is not None:
            allowed = hosts.verdicts.get(found[_HOST])
            if allowed is None:
                allowed = await hosts.allows(found[_HOST])
            if not allowed:
                return await self.app(scope, receive, send)  # the Host check's 400
        kept = self._kept_for(release, audience, by_id, path)
        if kept.needs_token:
            authorization = found[_AUTHORIZATION]
            if not state.tokens.is_authorized(
                None if authorization is None else authorization.decode("latin-1")
            ):
                return await self.app(scope, receive, send)  # the guard's 401
        if_none_match = found[_IF_NONE_MATCH]
        try:
            if zxy is None:  # the endpoint's error for this address (`parse_tile_path`'s)
                z_text, x_text, y_name = address.split("/")
                zxy = parse_tile_path(z_text, x_text, y_name)
            answer = tile_answer(
                state.tile_cache,
                audience,
                kept.headers,
                *zxy,
                None if if_none_match is None else if_none_match.decode("latin-1"),
            )
        except ServerError as exc:  # what the endpoint raises for this request: its 400 or 404
            error = error_response(exc)
            status, headers, body = error.status_code, list(error.raw_headers), bytes(error.body)
            if self.security is not None:
                self.security.extend(headers)
        except Exception:
            # not a tile answer: the stack meets the error again, answers and logs it
            return await self.app(scope, receive, send)
        else:
            status, headers, body = answer
            if status == 200:
                headers.append((b"content-length", b"%d" % len(body)))
        given_id = found[_ID]
        if given_id is None:
            request_id = self.recorder.new_id()
        else:
            request_id = request_id_from(given_id.decode("latin-1"), self.recorder.new_id)
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
            if found[_FORWARDED] is not None:  # the client the stack's access line would name
                await self.forwarded(scope, receive, send)  # type: ignore[misc]
            route = RELEASE_TILE_ROUTE if by_id else TILE_ROUTE
            self.recorder.record(scope, request_id, status, len(body), seconds, route)
        return None

    def _kept_for(
        self, release: Release, audience: AudienceRelease, by_id: bool, path: str
    ) -> _Kept:
        """What is kept for `audience` (made from `path`, one of its tile paths, the first time).
        The guard's internal paths are prefixes that end at the audience segment
        (InternalPaths.from_routes), so one tile path of an audience answers for all of them."""
        key = (id(audience), by_id)
        kept = self._kept.get(key)
        if kept is not None and kept.audience() is audience:
            return kept
        state = self.state
        restricted = audience.restricted
        cache_control = (
            state.kept_cache_control(restricted) if by_id else state.tile_cache_control(restricted)
        )
        # a tile answer sets no security header of its own and is never HTML
        extra = () if self.security is None else self.security.always
        kept = _Kept(
            weakref.ref(audience),
            tile_headers(release, audience, cache_control, extra),
            restricted or path in self.internal,
        )
        if len(self._kept) >= _KEPT:
            self._kept.clear()
        self._kept[key] = kept
        return kept
