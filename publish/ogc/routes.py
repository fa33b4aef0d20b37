"""The OGC API routes of the server: pygeoapi's request functions behind Starlette, per audience.

pygeoapi's request functions (`pygeoapi.api.landing_page(api, request)`, …) take the `API` object
as an argument, so each audience's routes call them with that audience's API from the release the
request started on (`OgcService`); pygeoapi's own Starlette module, which builds one API from
environment variables at import, is never imported. Public routes are mounted at /ogc, internal
ones at /internal/ogc (the audience guard already asks for a token there); `/ogc` redirects to
`/ogc/`. Only reading is routed (GET/HEAD): no transactions, processes or admin.

Answers carry an ETag (a hash of the body: If-None-Match gets a 304) but for the GeoJSON items
pages: they carry the time they were made (pygeoapi's `timeStamp`, to the microsecond), so they
differ on every request and their ETag could never match, while hashing ~60 KB a page cost
~50 µs. The same pages as HTML, JSON-LD or CSV, which carry no time, keep theirs.

Collection tiles are answered here rather than by pygeoapi's handler, so that they go out like
the server's other tiles: stored compression with Content-Encoding, ETag/304, 204 for an empty
tile, 404 outside the zooms, Cache-Control by audience.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from publish.domain import INTERNAL, PUBLIC
from publish.ogc.config import FEATURE_PROVIDER, collections
from publish.ogc.cql import FilterError, filter_scope, parse_filter
from publish.ogc.encoding import COMPACT_FORMATS, compact_answer
from publish.ogc.language import with_language
from publish.ogc.params import check_execution_body, check_items_query
from publish.ogc.postgis import POSTGRESQL_PROVIDER
from publish.ogc.providers import serving
from publish.ogc.queryables import described
from publish.ogc.service import OgcService, provider_of
from publish.ogc.threads import one_at_a_time, run_in_ogc_thread
from publish.release.outputs.ogc import OGC_KEY
from publish.server.caching import body_etag, etag_matches
from publish.server.context import request_context
from publish.server.errors import BadRequestError, NotFoundError, PayloadTooLargeError
from publish.server.release import RELEASE_HEADER, AudienceRelease, Release
from publish.server.state import ServerState, server_state
from publish.tiles.archive import TileStatus

MOUNTS: Mapping[str, str] = {PUBLIC: "/ogc", INTERNAL: "/internal/ogc"}
READ = ["GET", "HEAD"]
GEOJSON = "application/geo+json"
_CONFORMANCE_LOCK = threading.Lock()

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class _Context:
    """What one OGC request works with, fixed at its start."""

    state: ServerState
    release: Release
    audience: AudienceRelease
    service: OgcService


def _context(request: Request, audience: str) -> _Context:
    ctx = request_context(request, audience)
    service = ctx.audience.services.get(OGC_KEY)
    if service is None:  # the release has no OGC API for this audience
        raise NotFoundError()
    return _Context(ctx.state, ctx.release, ctx.audience, service)


@cache
def _function(module: str, name: str) -> Callable[..., Any]:
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


# -- pygeoapi's functions, and the two that need help -------------------------------------------


@cache
def _route_table() -> tuple[BaseRoute, ...]:
    """The routes the OpenAPI document describes (both audiences route the same paths)."""
    return tuple(audience_routes(PUBLIC))


def _openapi(ctx: _Context, api: Any, request: Any) -> Any:
    ctx.service.ensure_openapi(api, _route_table())
    return _function("pygeoapi.api", "openapi_")(api, request)


# Conformance classes pygeoapi declares for any feature provider or process that this server
# does not serve: transactions (only GET is routed) and process callbacks (`subscriber` is
# refused: the server calls no client-given URL).
NOT_SERVED = frozenset(
    {
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/callback",
    }
)


# OGC API – Features Part 3 and CQL2 classes our GeoPackage provider (publish.ogc.where) and our
# PostGIS provider (publish.ogc.postgis_features) serve; pygeoapi declares none. Not declared:
# arithmetic (CQL2's % and div), CASEI/ACCENTI, functions, property-property comparisons,
# temporal and array operators.
FILTER_CLASSES = (
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
)


def _feature_provider(ctx: _Context, cid: str) -> dict[str, Any] | None:
    """Collection `cid`'s feature provider definition, if it has one."""
    resource = collections(ctx.service.config).get(cid)
    return None if resource is None else provider_of(resource, "feature")


# Feature providers the items route parses CQL2 for (pygeoapi's stock PostgreSQL provider of
# earlier PostGIS releases is left to pygeoapi's own ECQL handling).
FILTERING_PROVIDERS = frozenset({FEATURE_PROVIDER, POSTGRESQL_PROVIDER})


def _filters_served(ctx: _Context) -> bool:
    """Every feature collection is on one of our providers (GeoPackage or PostGIS)."""
    providers = [_feature_provider(ctx, cid) for cid in collections(ctx.service.config)]
    named = [p.get("name") for p in providers if p is not None]
    return bool(named) and all(name in FILTERING_PROVIDERS for name in named)


def _conformance(ctx: _Context, api: Any, request: Any) -> Any:
    # pygeoapi 0.21 extends its module-level CONFORMANCE_CLASSES list on every call (a leak);
    # put the list back as it was. The lists it extends from lose what is not served.
    core = importlib.import_module("pygeoapi.api")
    with _CONFORMANCE_LOCK:
        for module, name in (
            ("pygeoapi.api.itemtypes", "CONFORMANCE_CLASSES_FEATURES"),
            ("pygeoapi.api.processes", "CONFORMANCE_CLASSES"),
        ):
            declared = getattr(importlib.import_module(module), name)
            declared[:] = [c for c in declared if c not in NOT_SERVED]
        kept = len(core.CONFORMANCE_CLASSES)
        if _filters_served(ctx):
            core.CONFORMANCE_CLASSES.extend(FILTER_CLASSES)
        try:
            return core.conformance(api, request)
        finally:
            del core.CONFORMANCE_CLASSES[kept:]


def _pygeoapi(module: str, name: str) -> Callable[..., Any]:
    def call(ctx: _Context, api: Any, request: Any, *args: Any) -> Any:
        return _function(module, name)(api, request, *args)

    return call


def _geojson(function: Callable[..., Any]) -> Callable[..., Any]:
    """Items as application/geo+json (OGC API - Features, /req/geojson/content): pygeoapi
    labels its GeoJSON application/json. Other formats (f=html, f=jsonld) and errors keep theirs.
    A compact GeoJSON answer takes its geometries already encoded (publish.ogc.encoding)."""

    def call(ctx: _Context, api: Any, request: Any, *args: Any) -> Any:
        compact = request.format in COMPACT_FORMATS and not api.pretty_print
        with compact_answer(compact):
            headers, status, content = function(ctx, api, request, *args)
        if int(status) < 300 and headers.get("Content-Type") == "application/json":
            headers["Content-Type"] = GEOJSON
        return headers, status, content

    return call


FILTER_PARAMS = frozenset({"filter", "filter-lang", "filter-crs"})


class _ParamsWithoutFilter(dict[str, Any]):
    """An items request's parameters as pygeoapi's get_collection_items reads them once the
    filter is parsed here: `get` does not see `filter`, `filter-lang` or `filter-crs` (pygeoapi
    would parse the filter again with its ECQL parser, and refuses `filter-lang=cql2-text`),
    while iterating still does, so the self, alternate, next and prev links keep them."""

    def get(self, key: str, default: Any = None) -> Any:
        return default if key in FILTER_PARAMS else super().get(key, default)


def _filtered(function: Callable[..., Any]) -> Callable[..., Any]:
    """Items with a CQL2 `filter`: parsed here (publish.ogc.cql; a bad one is a 400 naming the
    problem) and handed to our provider for this request. Collections on another provider
    (pygeoapi's stock PostgreSQL one) get pygeoapi's own handling."""

    def call(ctx: _Context, api: Any, request: Any, *args: Any) -> Any:
        params = request.params
        provider = _feature_provider(ctx, args[0])
        if not FILTER_PARAMS & set(params) or provider is None:
            return function(ctx, api, request, *args)
        if provider.get("name") not in FILTERING_PROVIDERS:
            return function(ctx, api, request, *args)
        request._args = _ParamsWithoutFilter(params.items())
        if "filter" not in params:  # filter-lang or filter-crs alone: nothing to filter
            return function(ctx, api, request, *args)
        try:
            parsed = parse_filter(
                params.get("filter"),
                params.get("filter-lang"),
                params.get("filter-crs"),
                provider.get("crs") or (),
            )
        except FilterError as exc:
            raise BadRequestError(str(exc)) from None
        with filter_scope(parsed):
            return function(ctx, api, request, *args)

    return call


def _described(function: Callable[..., Any]) -> Callable[..., Any]:
    """Queryables with the standard's field titles, and the national classification's codes
    and names on a land-use layer's code field (publish.ogc.queryables)."""

    def call(ctx: _Context, api: Any, request: Any, *args: Any) -> Any:
        headers, status, content = function(ctx, api, request, *args)
        if int(status) >= 300 or request.format == "html":
            return headers, status, content
        provider = _feature_provider(ctx, args[0])
        code_field = None if provider is None else provider.get("code_field")
        doc = json.loads(content) if isinstance(content, str | bytes) else content
        language = str(getattr(request.locale, "language", "") or "")
        return headers, status, described(doc, code_field and str(code_field), language)

    return call


def _tile_matrix_set_links(function: Callable[..., Any]) -> Callable[..., Any]:
    """A collection's tilesets list also as `tileMatrixSetLinks` (the OGC API – Tiles drafts'
    name, which pygeoapi's own OpenAPI schema and older clients expect) beside `tilesets`."""

    def call(ctx: _Context, api: Any, request: Any, *args: Any) -> Any:
        headers, status, content = function(ctx, api, request, *args)
        if int(status) >= 300 or not str(headers.get("Content-Type", "")).endswith("json"):
            return headers, status, content
        doc = json.loads(content) if isinstance(content, str | bytes) else content
        if isinstance(doc, dict) and isinstance(doc.get("tilesets"), list):
            doc["tileMatrixSetLinks"] = [
                {
                    "tileMatrixSet": str(ts.get("tileMatrixSetURI", "")).rsplit("/", 1)[-1],
                    "tileMatrixSetURI": ts.get("tileMatrixSetURI"),
                }
                for ts in doc["tilesets"]
                if isinstance(ts, dict) and ts.get("tileMatrixSetURI")
            ]
        return headers, status, doc

    return call


def _handle(
    request: Request,
    audience: str,
    function: Callable[..., Any],
    args: Sequence[str],
    check_format: bool,
    body: bytes | None = None,
) -> tuple[_Context, dict[str, str], int, Any]:
    """Run in a worker thread: pygeoapi's functions block (SQLite, files)."""
    ctx = _context(request, audience)
    # process executions (site checks, seconds long) are not held to one at a time
    with one_at_a_time(ctx.service.serial and body is None):
        headers, status, content = _answer(
            ctx, request, audience, function, args, check_format, body
        )
    return ctx, headers, status, content


def _answer(
    ctx: _Context,
    request: Request,
    audience: str,
    function: Callable[..., Any],
    args: Sequence[str],
    check_format: bool,
    body: bytes | None,
) -> tuple[dict[str, str], int, Any]:
    from pygeoapi.api import APIRequest
    from pygeoapi.provider.base import ProviderGenericError

    api = ctx.service.api(ctx.state.base_url(request) + MOUNTS[audience])
    served = api.config["server"].get("languages") or ["en-US"]
    request = Request(with_language(request.scope, served), request.receive)
    # The body (process execution only) was read by the async endpoint.
    if body is not None:
        check_execution_body(body)  # here, off the event loop: a large body takes ms to parse
    api_request = APIRequest(request, api.locales)
    if body is not None:
        api_request._data = body
    if check_format and not api_request.is_valid():
        headers, status, content = api.get_format_exception(api_request)
    else:
        try:
            with serving(ctx.service):  # its kept feature providers (publish.ogc.providers)
                headers, status, content = function(ctx, api, api_request, *args)
        except ProviderGenericError as err:  # raised where pygeoapi does not catch it
            headers = api_request.get_response_headers(**api.api_headers)
            headers, status, content = api.get_exception(
                err.http_status_code,
                headers,
                api_request.format,
                err.ogc_exception_code,
                err.message,
            )
    return headers, int(status), content


def _body(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _typed_exception(body: bytes) -> bytes:
    """An OGC exception body with its `type` (OGC API – Processes requires it; some of
    pygeoapi's error bodies have only `code` and `description`)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    if not isinstance(doc, dict) or "type" in doc or "code" not in doc:
        return body
    return _body({"type": doc["code"], **doc})


def _response(
    request: Request,
    ctx: _Context,
    headers: Mapping[str, Any],
    status: int,
    content: Any,
    timed: bool = False,
) -> Response:
    """`timed`: the route's GeoJSON answers carry their time (no ETag)."""
    from pygeoapi.api import apply_gzip

    out = {str(k): str(v) for k, v in headers.items()}
    body = _body(apply_gzip(out, content))
    media = out.get("Content-Type", "application/json")
    if media.startswith("text/") and "charset" not in media:
        out["Content-Type"] = f"{media}; charset=utf-8"
    out["Cache-Control"] = ctx.state.document_cache_control(ctx.audience.restricted)
    out["Vary"] = "Accept, Accept-Language"  # pygeoapi negotiates format and language
    out[RELEASE_HEADER] = ctx.release.id
    if status >= 400 and media.startswith("application/json"):
        body = _typed_exception(body)
    if status == 200 and not (timed and media == GEOJSON):
        out["ETag"] = body_etag(body)
        if etag_matches(request.headers.get("if-none-match"), out["ETag"]):
            out.pop("Content-Type", None)
            return Response(status_code=304, headers=out)
    if status in (204, 304):
        body = b""
    return Response(body, status_code=status, headers=out)


def _endpoint(
    audience: str,
    function: Callable[..., Any],
    params: Sequence[str] = (),
    *,
    check_format: bool = True,
    check_query: Callable[[Iterable[tuple[str, str]]], None] | None = None,
    timed: bool = False,
) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if check_query is not None:
            check_query(request.query_params.multi_items())
        args = [request.path_params[p] for p in params]
        ctx, headers, status, content = await run_in_ogc_thread(
            _handle, request, audience, function, args, check_format
        )
        return _response(request, ctx, headers, status, content, timed)

    return endpoint


# Process inputs are a geometry and a few numbers; a site is limited in vertices anyway.
MAX_EXECUTE_BODY = 5 * 1024 * 1024


def _execute_endpoint(audience: str) -> Endpoint:
    """POST …/processes/{process_id}/execution: pygeoapi's execute_process, synchronously."""
    call = _pygeoapi("pygeoapi.api.processes", "execute_process")

    async def endpoint(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and not (length.isascii() and length.isdigit()):
            raise BadRequestError(f"Content-Length must be a whole number (got {length[:40]!r})")
        if length is not None and int(length) > MAX_EXECUTE_BODY:
            raise PayloadTooLargeError(MAX_EXECUTE_BODY)
        # then a slot: a request refused for want of one costs neither its body nor a thread
        async with server_state(request).site_checks.slot():
            body = bytearray()
            async for chunk in request.stream():  # never more than the limit in memory
                body += chunk
                if len(body) > MAX_EXECUTE_BODY:
                    raise PayloadTooLargeError(MAX_EXECUTE_BODY)
            args = [request.path_params["process_id"]]
            ctx, headers, status, content = await anyio.to_thread.run_sync(
                _handle, request, audience, call, args, False, bytes(body)
            )
        return _response(request, ctx, headers, status, content)

    return endpoint


# -- collection tiles ------------------------------------------------------------------------


def _tile(request: Request, audience: str) -> tuple[_Context, Any, Any]:
    """Run in a worker thread: the collection's tile as stored (or None: not ours)."""
    from pygeoapi.provider.base import ProviderGenericError

    ctx = _context(request, audience)
    params = request.path_params
    cid = params["collection_id"]
    if cid not in ctx.service.collections:
        raise NotFoundError()
    try:
        provider = ctx.service.tile_provider(cid)
        if provider is None:
            return ctx, None, None
        result = provider.tile(
            params["tileMatrixSetId"], params["tileMatrix"], params["tileRow"], params["tileCol"]
        )
    except ProviderGenericError as err:
        if err.http_status_code == 404:
            raise NotFoundError() from None
        if err.http_status_code == 400:
            raise BadRequestError(err.message) from None
        raise
    return ctx, provider, result


def _tile_endpoint(audience: str) -> Endpoint:
    fallback = _endpoint(
        audience,
        _pygeoapi("pygeoapi.api.tiles", "get_collection_tiles_data"),
        ("collection_id", "tileMatrixSetId", "tileMatrix", "tileRow", "tileCol"),
        check_format=False,
    )

    async def endpoint(request: Request) -> Response:
        ctx, provider, result = await anyio.to_thread.run_sync(_tile, request, audience)
        if provider is None:  # not a PMTiles collection: pygeoapi's own handler
            return await fallback(request)
        if result.status is TileStatus.NOT_FOUND:
            raise NotFoundError("no tile here: outside the collection's zooms or bounds")
        headers = {
            "Cache-Control": ctx.state.tile_cache_control(ctx.audience.restricted),
            RELEASE_HEADER: ctx.release.id,
        }
        if result.status is TileStatus.EMPTY:
            return Response(status_code=204, headers=headers)
        headers["ETag"] = f'"{result.etag}"'
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        if provider.tile_compression:
            headers["Content-Encoding"] = provider.tile_compression
        return Response(result.data, headers=headers, media_type=provider.mimetype)

    return endpoint


# -- the routes ------------------------------------------------------------------------------


class _Static:
    """pygeoapi's static files (CSS, JS of its HTML pages), set up on first use."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            from starlette.staticfiles import StaticFiles

            self._app = StaticFiles(packages=[("pygeoapi", "static")])
        await self._app(scope, receive, send)


def audience_routes(audience: str) -> list[BaseRoute]:
    """The OGC API routes of one audience, relative to its mount."""

    def route(
        path: str,
        module: str,
        name: str,
        *params: str,
        check: bool = True,
        query: Callable[[Iterable[tuple[str, str]]], None] | None = None,
        wrap: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
        timed: bool = False,
    ) -> Route:
        """`wrap` adjusts pygeoapi's answer (media type, fields); `query` checks parameters;
        `timed`: the answers carry their time (see `_response`)."""
        call = _pygeoapi(module, name)
        if wrap is not None:
            call = wrap(call)
        endpoint = _endpoint(
            audience, call, params, check_format=check, check_query=query, timed=timed
        )
        return Route(path, endpoint, methods=READ)

    core, items, tiles = "pygeoapi.api", "pygeoapi.api.itemtypes", "pygeoapi.api.tiles"
    cid, tms = "collection_id", "tileMatrixSetId"
    return [
        route("/", core, "landing_page"),
        Route("/openapi", _endpoint(audience, _openapi), methods=READ),
        Route("/conformance", _endpoint(audience, _conformance), methods=READ),
        route("/TileMatrixSets", tiles, "tilematrixsets"),
        route("/TileMatrixSets/{tileMatrixSetId}", tiles, "tilematrixset", tms),
        route("/collections", core, "describe_collections"),
        route("/collections/{collection_id}", core, "describe_collections", cid),
        route("/collections/{collection_id}/schema", core, "get_collection_schema", cid),
        route(
            "/collections/{collection_id}/queryables",
            items,
            "get_collection_queryables",
            cid,
            wrap=_described,
        ),
        route(
            "/collections/{collection_id}/items",
            items,
            "get_collection_items",
            cid,
            check=False,
            wrap=lambda call: _geojson(_filtered(call)),
            query=check_items_query,
            timed=True,
        ),
        route(
            "/collections/{collection_id}/items/{item_id}",
            items,
            "get_collection_item",
            cid,
            "item_id",
            wrap=_geojson,
        ),
        route(
            "/collections/{collection_id}/tiles",
            tiles,
            "get_collection_tiles",
            cid,
            wrap=_tile_matrix_set_links,
        ),
        route(
            "/collections/{collection_id}/tiles/{tileMatrixSetId}",
            tiles,
            "get_collection_tiles_metadata",
            cid,
            tms,
            check=False,
        ),
        route(
            "/collections/{collection_id}/tiles/{tileMatrixSetId}/metadata",
            tiles,
            "get_collection_tiles_metadata",
            cid,
            tms,
            check=False,
        ),
        Route(
            "/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
            _tile_endpoint(audience),
            methods=READ,
        ),
        route("/processes", "pygeoapi.api.processes", "describe_processes"),
        route(
            "/processes/{process_id}", "pygeoapi.api.processes", "describe_processes", "process_id"
        ),
        Route("/processes/{process_id}/execution", _execute_endpoint(audience), methods=["POST"]),
        Mount("/static", app=_Static()),
    ]


def _redirect(mount: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        url = server_state(request).base_url(request) + mount + "/"
        if request.url.query:
            url += "?" + request.url.query
        return RedirectResponse(url, status_code=307)

    return endpoint


def ogc_routes() -> list[BaseRoute]:
    """Every OGC API route of the server: /ogc (public) and /internal/ogc (internal)."""
    out: list[BaseRoute] = []
    for audience, mount in MOUNTS.items():
        out.append(Route(mount, _redirect(mount), methods=READ))
        out.append(Mount(mount, routes=audience_routes(audience)))
    return out
