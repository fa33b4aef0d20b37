"""/wms and /wmts (public), /internal/wms and /internal/wmts (token: the audience guard covers
/internal/…): MapProxy behind a2wsgi, the apps of the release a request started on.

MapProxy sees the audience prefix as SCRIPT_NAME and /wms or /wmts… as PATH_INFO, so the URLs
in its capabilities are ours (/wms?, /wmts/1.0.0/…, /internal/wms?, …), built from the server's
base URL (`ServerState.base_url`: PUBLISH_PUBLIC_URL when set, else the request's own). MapProxy
would take the host, scheme and script name from a client's X-Forwarded-Host,
X-Forwarded-Proto and X-Script-Name: those headers never reach it, ours stand in their place.

What MapProxy answers is ours to finish: our caching headers, no CORS headers of its own (the
app's CORS middleware alone decides, from the settings), and no failure of its own in its own
words: an exception inside MapProxy reaches `_dispatch` (publish.wms.service turns MapProxy's
catch-all off) and goes out as every other failure of ours (publish.server.errors), logged
without the query string.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from publish.domain import INTERNAL, PUBLIC
from publish.errors import PublishError
from publish.server.context import request_context
from publish.server.errors import error_response
from publish.server.release import RELEASE_HEADER
from publish.server.state import server_state
from publish.wms.params import check_query, check_wmts_path
from publish.wms.service import MapProxyApps, MapProxyRegistry

log = logging.getLogger("publish.wms")

PREFIXES = {PUBLIC: "", INTERNAL: "/internal"}
READ = ["GET", "HEAD"]
_SCOPE_KEY = "onemap.mapproxy"
_WSGI_THREADS = 8
_lock = threading.Lock()


_EXCEPTION_TYPES = ("text/xml", "application/vnd.ogc.se_xml")
# ours replace MapProxy's; its Vary names the client headers it no longer sees
_REPLACED_HEADERS = ("cache-control", "expires", "vary")
# request headers MapProxy builds URLs from (a2wsgi reads '_' in a header name as '-')
_URL_HEADERS = (b"x-forwarded-host", b"x-forwarded-proto", b"x-script-name")


class MapProxyFailure(PublishError):
    """MapProxy answered a failure of its own (5xx) that is not a service exception."""


@dataclass(frozen=True)
class _Call:
    """What the WSGI side of one request needs: the MapProxy app and our response headers."""

    app: Any
    release_id: str
    image_cache_control: str
    document_cache_control: str


def _dispatch(environ: Any, start_response: Any) -> Iterable[bytes]:
    """The WSGI app a2wsgi runs: the MapProxy app the ASGI side chose for this request.

    Responses get the server's own caching headers (tiles and maps as tiles, capabilities and
    feature info as documents that change with the release; MapProxy's 72-hour expiry would
    outlive a release) and the release header (MapProxy adds no CORS header: mapproxy.yaml
    turns it off). MapProxy sends every ServiceException it has no status for (a missing
    parameter, an unknown layer) with 500, and WMTS feature info on a layer that has none with
    501; those answer the client's request, so every 5xx service exception goes out as 400
    (logged with its path: a failed source is reported the same way). A failure of ours (an
    exception, or a 5xx that is not a service exception) goes out as `error_response` makes it.
    """
    call: _Call = environ["asgi.scope"][_SCOPE_KEY]
    failed: list[str] = []

    def our_headers(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
        media = next((v for k, v in headers if k.lower() == "content-type"), "")
        media = media.split(";")[0].strip()
        if status.startswith("5"):
            if media not in _EXCEPTION_TYPES:
                failed.append(status)
                return lambda _chunk: None  # its body is never sent
            # a service exception: mostly the client's mistake, but MapProxy reports a source
            # that failed the same way, so say which request it was
            log.warning("MapProxy service exception %s answered 400: %s", status, _path(environ))
            status = "400 Bad Request"
        headers = [(k, v) for k, v in headers if k.lower() not in _REPLACED_HEADERS]
        if not status.startswith(("200", "304")):
            cache_control = "no-store"
        elif media.startswith("image/"):
            cache_control = call.image_cache_control
        else:
            cache_control = call.document_cache_control
        headers += [("Cache-Control", cache_control), (RELEASE_HEADER, call.release_id)]
        return start_response(status, headers, *exc)

    try:
        result: Iterable[bytes] = call.app(environ, our_headers)
    except Exception as exc:
        return _failure(exc, call, start_response)
    if failed:
        close = getattr(result, "close", None)
        if close is not None:
            close()
        failure = MapProxyFailure(f"MapProxy answered {failed[0]} to {_path(environ)}")
        return _failure(failure, call, start_response)
    return result


def _path(environ: Any) -> str:
    """The request's path, never its query string (which may hold a token)."""
    return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))


def _failure(exc: BaseException, call: _Call, start_response: Any) -> Iterable[bytes]:
    """The server's answer to a failure inside MapProxy (logged by `error_response`)."""
    response = error_response(exc)
    status = f"{response.status_code} {HTTPStatus(response.status_code).phrase}"
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
    start_response(status, [*headers, (RELEASE_HEADER, call.release_id)])
    return [bytes(response.body)]


def _shared(request: Request) -> tuple[MapProxyRegistry, Any]:
    """This server's registry of MapProxy apps and its a2wsgi adapter (made on first use)."""
    app_state = request.app.state
    with _lock:
        found = getattr(app_state, "mapproxy", None)
        if found is None:
            from a2wsgi import WSGIMiddleware

            settings = server_state(request).settings
            registry = MapProxyRegistry(settings.data_dir, settings.mapproxy_template)
            found = (registry, WSGIMiddleware(_dispatch, workers=_WSGI_THREADS))
            app_state.mapproxy = found
    registry, wsgi = found
    return registry, wsgi


_DOCUMENT_REQUESTS = frozenset({"getcapabilities", "getfeatureinfo", "getlegendgraphic"})


def _renders(inner: str, query: Iterable[tuple[str, str]]) -> bool:
    """Whether a request may render a map (GetMap, a WMTS tile): the work queue bounds those.
    Capabilities, legends and feature info are answered without rendering."""
    if inner.endswith(".xml") or inner.count("/") == 8:  # REST capabilities or feature info
        return False
    kind = next((v for k, v in query if k.upper() == "REQUEST"), "")
    return kind.lower() not in _DOCUMENT_REQUESTS


class MapProxyEndpoint:
    """The ASGI endpoint of one audience's /wms and /wmts paths."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        self.prefix = PREFIXES[audience]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        ctx = request_context(request, self.audience)
        state, release, audience = ctx.state, ctx.release, ctx.audience
        inner = scope["path"][len(self.prefix) :]
        check_wmts_path(inner)
        check_query(request.query_params.multi_items())
        registry, wsgi = _shared(request)
        apps: MapProxyApps = await anyio.to_thread.run_sync(
            registry.apps, release.id, release.loaded_at, release.path, audience.name
        )
        kvp_wmts = inner == "/wmts"
        base = urlsplit(state.base_url(request))
        script = base.path.rstrip("/") + self.prefix
        headers = [
            (k, v) for k, v in scope.get("headers", []) if k.replace(b"_", b"-") not in _URL_HEADERS
        ]
        headers += [
            (b"x-forwarded-host", base.netloc.encode("latin-1", "replace")),
            (b"x-forwarded-proto", base.scheme.encode("latin-1", "replace")),
        ]
        wsgi_scope = {
            **scope,
            "root_path": script,
            "path": script + inner,
            "headers": headers,
            _SCOPE_KEY: _Call(
                app=apps.kvp if kvp_wmts else apps.app,
                release_id=release.id,
                image_cache_control=state.tile_cache_control(audience.restricted),
                document_cache_control=state.document_cache_control(audience.restricted),
            ),
        }
        if _renders(inner, request.query_params.multi_items()):
            async with state.renderings.slot():  # bounded (publish.server.overload)
                await wsgi(wsgi_scope, receive, send)
        else:
            await wsgi(wsgi_scope, receive, send)


def wms_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for audience, prefix in PREFIXES.items():
        endpoint = MapProxyEndpoint(audience)
        routes += [
            Route(f"{prefix}/wms", endpoint, methods=READ),
            Route(f"{prefix}/wmts", endpoint, methods=READ),
            Route(f"{prefix}/wmts/{{rest:path}}", endpoint, methods=READ),
        ]
    return routes
