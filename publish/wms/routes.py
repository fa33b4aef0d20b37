"""/wms and /wmts (public), /internal/wms and /internal/wmts (token: the audience guard covers
/internal/…): MapProxy behind a2wsgi, the apps of the release a request started on.

MapProxy sees the audience prefix as SCRIPT_NAME and /wms or /wmts… as PATH_INFO, so the URLs
in its capabilities are ours (/wms?, /wmts/1.0.0/…, /internal/wms?, …); with PUBLISH_PUBLIC_URL
set they are built from it (scheme, host and path) rather than from the request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from publish.server.guard import audience_for
from publish.server.release import INTERNAL, PUBLIC
from publish.server.state import server_state
from publish.server.tiles import RELEASE_HEADER
from publish.wms.params import check_query, check_wmts_path
from publish.wms.service import MapProxyApps, MapProxyRegistry

PREFIXES = {PUBLIC: "", INTERNAL: "/internal"}
READ = ["GET", "HEAD"]
_SCOPE_KEY = "onemap.mapproxy"
_WSGI_THREADS = 8
_lock = threading.Lock()


_EXCEPTION_TYPES = ("text/xml", "application/vnd.ogc.se_xml")
_REPLACED_HEADERS = ("cache-control", "expires")


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
    outlive a release) and the release header. MapProxy sends every WMS ServiceException it has
    no status for (a missing parameter, an unknown layer) with 500; those are the client's
    mistakes, so they go out as 400. A failure of ours is not a ServiceException (MapProxy
    answers it 'internal error' in plain text) and keeps its 500.
    """
    call: _Call = environ["asgi.scope"][_SCOPE_KEY]

    def our_headers(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
        media = next((v for k, v in headers if k.lower() == "content-type"), "")
        media = media.split(";")[0].strip()
        if status.startswith("500") and media in _EXCEPTION_TYPES:
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

    result: Iterable[bytes] = call.app(environ, our_headers)
    return result


def _shared(request: Request) -> tuple[MapProxyRegistry, Any]:
    """This server's registry of MapProxy apps and its a2wsgi adapter (made on first use)."""
    app_state = request.app.state
    with _lock:
        found = getattr(app_state, "mapproxy", None)
        if found is None:
            from a2wsgi import WSGIMiddleware

            registry = MapProxyRegistry(server_state(request).settings.tiles_dir)
            found = (registry, WSGIMiddleware(_dispatch, workers=_WSGI_THREADS))
            app_state.mapproxy = found
    registry, wsgi = found
    return registry, wsgi


class MapProxyEndpoint:
    """The ASGI endpoint of one audience's /wms and /wmts paths."""

    def __init__(self, audience: str) -> None:
        self.audience = audience
        self.prefix = PREFIXES[audience]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        state = server_state(request)
        release = state.holder.require()
        audience = audience_for(request, release, self.audience)
        inner = scope["path"][len(self.prefix) :]
        check_query(request.query_params.multi_items())
        check_wmts_path(inner)
        registry, wsgi = _shared(request)
        apps: MapProxyApps = await anyio.to_thread.run_sync(
            registry.apps, release.id, release.loaded_at, release.path, audience.name
        )
        kvp_wmts = inner == "/wmts"
        script = self.prefix
        headers = list(scope.get("headers", []))
        public_url = state.settings.public_url
        if public_url:
            parts = urlsplit(public_url)
            script = parts.path.rstrip("/") + self.prefix
            headers = [
                (k, v) for k, v in headers if k not in (b"x-forwarded-host", b"x-forwarded-proto")
            ]
            headers += [
                (b"x-forwarded-host", parts.netloc.encode("latin-1")),
                (b"x-forwarded-proto", parts.scheme.encode("latin-1")),
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
