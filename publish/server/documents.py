"""Endpoints for JSON documents: TileJSON (/tiles/{audience}.json), styles
(/styles/{audience}.json), the same of a kept release (/releases/{release}/…) and /healthz.
Documents carry an ETag and answer If-None-Match.

Every URL a document names is versioned, so that any cache may keep what it names for good:
the TileJSON's tiles are the release's own (/releases/<id>/tiles/{audience}/{z}/{x}/{y}.mvt),
the style's source is the release's own TileJSON (/releases/<id>/tiles/{audience}.json) and its
glyphs carry their version (publish.server.glyphs). The current release's documents are the
same bytes as its documents by id; only their Cache-Control differs (revalidated, since they
change at a release switch, against immutable by id). A client that reloads the style after a
switch gets the new release's URLs, and one still drawing the old style keeps getting the old
release's tiles (a kept release): never a mix."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from publish.server.caching import body_etag, etag_matches
from publish.server.context import request_context
from publish.server.glyphs import with_glyphs_version
from publish.server.kept import release_path
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
    """The document `kind` of the request's release and audience: `render(release, audience,
    base, here)` makes it (once per base URL), `base` being this server's URL and `here` the
    release's versioned one (`base`/releases/<id>)."""
    ctx = request_context(request, request.path_params["audience"])
    state, release, audience = ctx.state, ctx.release, ctx.audience
    base = state.base_url(request)
    here = base + release_path(release.id)
    body = audience.document(kind, base, lambda: _dumps(render(release, audience, base, here)))
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
        lambda release, audience, base, here: with_glyphs_version(
            render_style(audience.style, base, sources_url=here)
        ),
    )


async def healthz(request: Request) -> Response:
    """/healthz (public) and /internal/healthz (token): the latter with the refusal's reason."""
    detail = request.url.path.startswith("/internal/")
    status = server_state(request).holder.status(detail=detail)
    code = 200 if status["release"] is not None else 503
    return JSONResponse(status, code, headers={"Cache-Control": "no-store"})
