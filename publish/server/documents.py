"""Endpoints for JSON documents: TileJSON (/tiles/{audience}.json), styles
(/styles/{audience}.json), the same of a kept release (/releases/{release}/…) and /healthz. Documents carry an ETag and answer If-None-Match."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from publish.server.caching import body_etag, etag_matches
from publish.server.context import request_context
from publish.server.release import RELEASE_HEADER, AudienceRelease, Release
from publish.server.state import server_state
from publish.styles.served import render_style
from publish.tiles.tilejson import with_tiles

JSON = "application/json"


def _dumps(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_document(
    request: Request, kind: str, render: Callable[[Release, AudienceRelease, str, str], object]
) -> Response:
    ctx = request_context(request, request.path_params["audience"])
    state, release, audience = ctx.state, ctx.release, ctx.audience
    base, prefix = state.base_url(request), ctx.prefix
    body = audience.document(
        kind + prefix, base, lambda: _dumps(render(release, audience, base, base + prefix))
    )
    etag = body_etag(body)
    headers = {
        "Cache-Control": ctx.document_cache_control(),
        "ETag": etag,
        RELEASE_HEADER: release.id,
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=JSON)


async def tilejson(request: Request) -> Response:
    return json_document(
        request,
        "tilejson",
        lambda release, audience, base, here: with_tiles(
            audience.tilejson, f"{here}/tiles/{audience.name}/{{z}}/{{x}}/{{y}}.mvt"
        ),
    )


async def style(request: Request) -> Response:
    return json_document(
        request,
        "style",
        lambda release, audience, base, here: render_style(audience.style, base, sources_url=here),
    )


async def healthz(request: Request) -> Response:
    """/healthz (public) and /internal/healthz (token): the latter with the refusal's reason."""
    detail = request.url.path.startswith("/internal/")
    status = server_state(request).holder.status(detail=detail)
    code = 200 if status["release"] is not None else 503
    return JSONResponse(status, code, headers={"Cache-Control": "no-store"})
