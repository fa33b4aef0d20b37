"""The dashboard's routes: its page (/dashboard; /internal/dashboard, which asks for the token
like the internal viewer) and the indicator data (/indicators/{audience}.json, .csv, .xlsx).

The JSON is {"release", "monitoring", "conflicts", "trend"}: the current release's documents as
it carries them, and the trend read from every kept release up to the current one (oldest
first) for the current release's indicators only — so the public trend names nothing the public
monitoring does not. The CSV and XLSX are the results table (publish.dashboard.table), for the
status's target year or the one `?year=` names. Each answer is rendered once per release, kept
releases and query (the audience's document cache), with an ETag."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from publish.dashboard.monitoring import (
    NoMonitoringError,
    indicator_ids,
    read_monitoring,
    trend_point,
)
from publish.dashboard.table import result_rows, rows_csv, rows_xlsx
from publish.server.caching import body_etag, etag_matches
from publish.server.context import RequestContext, request_context
from publish.server.errors import BadRequestError, NotFoundError
from publish.server.release import RELEASE_HEADER
from publish.server.viewer import static_page

DASHBOARD_PAGE = "dashboard.html"
READ = ["GET", "HEAD"]
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"


async def page(request: Request) -> Response:
    return static_page(request, DASHBOARD_PAGE)


def _documents(ctx: RequestContext) -> tuple[dict[str, Any], dict[str, Any] | None]:
    try:
        return read_monitoring(ctx.release.path, ctx.audience.name)
    except NoMonitoringError as exc:
        raise NotFoundError(str(exc)) from exc


def _trend(ctx: RequestContext, kept: list[str], indicators: list[str]) -> list[dict[str, Any]]:
    releases = ctx.state.kept.store.releases
    points = (trend_point(releases / rid, ctx.audience.name, indicators) for rid in kept)
    return [point for point in points if point is not None]


def _json_body(ctx: RequestContext, kept: list[str]) -> bytes:
    monitoring, conflicts = _documents(ctx)
    doc = {
        "release": ctx.release.id,
        "monitoring": monitoring,
        "conflicts": conflicts,
        "trend": _trend(ctx, kept, indicator_ids(monitoring)),
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _year(request: Request) -> int | None:
    text = request.query_params.get("year")
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) != 4:
        raise BadRequestError(f"year must be a year such as 2035 (got {text[:20]!r})")
    return int(text)


def _table_body(ctx: RequestContext, year: int | None, fmt: str) -> bytes:
    monitoring, _ = _documents(ctx)
    if year is not None and year not in (monitoring.get("target_years") or []):
        years = ", ".join(str(y) for y in monitoring.get("target_years") or []) or "none"
        raise BadRequestError(f"year {year} is not a target year of the indicators ({years})")
    rows = result_rows(monitoring, year)
    return rows_csv(rows) if fmt == "csv" else rows_xlsx(rows, title=ctx.release.id)


def _answer(request: Request, fmt: str) -> Response:
    """The `fmt` answer for the request's audience (runs in a worker thread: it reads files)."""
    ctx = request_context(request, request.path_params["audience"])
    kept = [rid for rid in ctx.state.kept.store.ids() if rid <= ctx.release.id]
    if fmt == "json":
        render = partial(_json_body, ctx, kept)
        kind, media_type = f"indicators.json:{','.join(kept)}", JSON
    else:
        year = _year(request)
        render = partial(_table_body, ctx, year, fmt)
        kind, media_type = f"indicators.{fmt}:{year}", CSV if fmt == "csv" else XLSX
    body = ctx.audience.document(kind, "", render)
    etag = body_etag(body)
    headers = {
        "Cache-Control": ctx.document_cache_control(),
        "ETag": etag,
        RELEASE_HEADER: ctx.release.id,
    }
    if fmt != "json":
        name = f"indicators-{ctx.audience.name}-{ctx.release.id}.{fmt}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=media_type)


def _endpoint(fmt: str) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one format; its work (files, rendering) runs in a worker thread."""

    async def indicators(request: Request) -> Response:
        return await anyio.to_thread.run_sync(_answer, request, fmt)

    indicators.__name__ = f"indicators_{fmt}"
    return indicators


def dashboard_routes() -> list[BaseRoute]:
    return [
        Route("/dashboard", page, methods=READ),
        Route("/internal/dashboard", page, methods=READ),
        *(
            Route(f"/indicators/{{audience}}.{fmt}", _endpoint(fmt), methods=READ)
            for fmt in ("json", "csv", "xlsx")
        ),
    ]
