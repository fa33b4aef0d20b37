"""The map viewer: its page at / (public) and /internal/ (staff), its assets under /static/,
and the layer list it draws its legend and layer switcher from (/styles/{audience}/layers.json).

The page is one static file for both audiences (the script reads the audience from the path);
the internal page is open (publish.server.guard.OPEN_INTERNAL_PAGES) and sends the token the
user gives it with each request. Asset names carry a content hash, so they are cached for a
year; the page and the layer list are revalidated (ETag).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from publish.server.caching import body_etag, etag_matches
from publish.server.documents import json_document
from publish.server.errors import ServerError
from publish.server.release import AudienceRelease, Release
from publish.styles.legend import build_legend
from publish.viewer import STATIC_DIR

ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-cache"
# catalog keys the viewer needs besides the legend (the published fields, the name to search
# and label by, the code field whose classes the legend lists)
_CATALOG_KEYS = ("role", "geometry", "fields", "name_field", "code_field", "id_field", "minzoom")

_VIEW_KEYS = ("bounds", "center", "minzoom", "maxzoom")


class ViewerNotBuiltError(ServerError):
    status, code = 503, "ViewerNotBuilt"

    def __init__(self) -> None:
        super().__init__("the viewer is not built: run `make install` (web/ → publish/viewer)")


class _Assets(StaticFiles):
    """StaticFiles with a year's caching: every asset name carries its content's hash."""

    async def check_config(self) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            raise ViewerNotBuiltError()

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = ASSET_CACHE_CONTROL
        return response


def _page_body(static_dir: Path) -> bytes:
    try:
        return (static_dir / "index.html").read_bytes()
    except FileNotFoundError:
        raise ViewerNotBuiltError() from None


async def page(request: Request) -> Response:
    """The viewer page (the same file at / and /internal/)."""
    body = _page_body(STATIC_DIR)
    etag = body_etag(body)
    headers = {"Cache-Control": PAGE_CACHE_CONTROL, "ETag": etag}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="text/html; charset=utf-8")


async def internal_redirect(request: Request) -> Response:
    return RedirectResponse("/internal/", status_code=308)


def viewer_layers(style: dict[str, Any], catalog: dict[str, Any]) -> dict[str, Any]:
    """The layer list: the style's legend (publish.styles.legend, top of the map first), each
    item with the catalog keys of its layer. Only layers the style draws are listed."""
    specs = {layer["id"]: layer for layer in catalog.get("layers") or [] if "id" in layer}
    items = []
    for item in build_legend(style):
        spec = specs.get(item["layer"], {})
        items.append({**item, **{key: spec[key] for key in _CATALOG_KEYS if key in spec}})
    return {"layers": items, "city": catalog.get("city")}


def _catalog(release: Release) -> dict[str, Any]:
    doc = yaml.safe_load((release.path / "catalog.yml").read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else {}


def _render_layers(release: Release, audience: AudienceRelease, base: str) -> dict[str, Any]:
    doc = viewer_layers(dict(audience.style), _catalog(release))
    # where the map opens: the archive's extent and zooms (TileJSON keys)
    doc.update({k: audience.tilejson[k] for k in _VIEW_KEYS if k in audience.tilejson})
    doc["release"] = release.id
    return doc


async def layers(request: Request) -> Response:
    return json_document(request, "viewer-layers", _render_layers)


def viewer_routes() -> list[BaseRoute]:
    return [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/internal/", page, methods=["GET", "HEAD"]),
        Route("/internal", internal_redirect, methods=["GET", "HEAD"]),
        Route("/styles/{audience}/layers.json", layers, methods=["GET", "HEAD"]),
        Mount("/static", app=_Assets(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
