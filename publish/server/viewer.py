"""The map viewer: its page at / (public) and /internal/ (staff), its assets under /static/,
and the layer list it draws its legend and layer switcher from (/styles/{audience}/layers.json).

The page is one static file for both audiences (the script reads the audience from the path);
the internal page is open (publish.server.guard.OPEN_INTERNAL_PAGES) and sends the token the
user gives it with each request. Asset names carry a content hash, so they are cached for a
year; the page and the layer list are revalidated (ETag).
"""

from __future__ import annotations

from mimetypes import guess_type
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from publish.catalog import Catalog, LayerSpec, load_catalog
from publish.server.caching import body_etag, etag_matches
from publish.server.documents import json_document
from publish.server.errors import ServerError
from publish.server.release import AudienceRelease, Release
from publish.styles.legend import build_legend
from publish.viewer import STATIC_DIR

ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-cache"
# catalog keys the viewer needs besides the legend and the fields (the name to search and label
# by, the code field whose classes the legend lists)
_CATALOG_KEYS = ("role", "geometry", "name_field", "code_field", "id_field", "minzoom")

_VIEW_KEYS = ("bounds", "center", "minzoom", "maxzoom")


class ViewerNotBuiltError(ServerError):
    status, code = 503, "ViewerNotBuilt"

    def __init__(self) -> None:
        super().__init__("the viewer is not built: run `make install` (web/ → publish/viewer)")


class _Assets(StaticFiles):
    """StaticFiles with a year's caching: every asset name carries its content's hash. A client
    that accepts brotli gets the `<asset>.br` the viewer's build wrote beside a script or style
    sheet (web/build.mjs, quality 11: the viewer's 1.1 MB of script, MapLibre's worker included,
    is ~280 KiB in brotli, ~17 % less than gzipped on the fly); every other client, or a Range
    request, the asset itself."""

    async def check_config(self) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            raise ViewerNotBuiltError()

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        brotli = _brotli_twin(Path(full_path), Headers(scope=scope))
        if brotli is not None:
            response: Response = FileResponse(
                brotli,
                status_code=status_code,
                media_type=guess_type(str(full_path))[0] or "application/octet-stream",
                headers={"Content-Encoding": "br", "Vary": "Accept-Encoding"},
            )
        else:
            response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = ASSET_CACHE_CONTROL
        return response


def _brotli_twin(path: Path, headers: Headers) -> Path | None:
    """The asset's brotli twin when the client accepts brotli and asks for the whole file."""
    accepted = {
        coding.strip()
        for coding, _, weight in (
            part.partition(";") for part in headers.get("accept-encoding", "").split(",")
        )
        if weight.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    }
    if "br" not in accepted or "range" in headers:
        return None
    twin = path.with_name(path.name + ".br")
    return twin if twin.is_file() else None


def _page_body(static_dir: Path, name: str) -> bytes:
    try:
        return (static_dir / name).read_bytes()
    except FileNotFoundError:
        raise ViewerNotBuiltError() from None


def static_page(request: Request, name: str) -> Response:
    """The built page `name` of publish/viewer/static (revalidated by its ETag)."""
    body = _page_body(STATIC_DIR, name)
    etag = body_etag(body)
    headers = {"Cache-Control": PAGE_CACHE_CONTROL, "ETag": etag}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="text/html; charset=utf-8")


async def page(request: Request) -> Response:
    """The viewer page (the same file at / and /internal/)."""
    return static_page(request, "index.html")


async def internal_redirect(request: Request) -> Response:
    return RedirectResponse("/internal/", status_code=308)


def viewer_layers(style: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """The layer list: the style's legend (publish.styles.legend, top of the map first), each
    item with its layer's catalog keys, its group's title and its published fields with their
    titles ({name, title: {zh, en}}). Only layers the style draws are listed: the viewer's
    words for an audience's layers come from here, never from its script."""
    specs = {spec.id: spec for spec in catalog.layers}
    items = []
    for item in build_legend(style):
        spec = specs.get(item["layer"])
        items.append({**item, **(_catalog_keys(spec) if spec else {})})
    return {"layers": items, "city": catalog.meta.get("city")}


def _catalog_keys(spec: LayerSpec) -> dict[str, Any]:
    keys = {key: getattr(spec, key) for key in _CATALOG_KEYS if getattr(spec, key) is not None}
    if spec.group is not None:
        keys["group_title"] = {"zh": spec.group, "en": spec.group_en or spec.group}
    keys["fields"] = [
        {"name": name, "title": spec.field_title(name)._asdict()} for name in spec.fields
    ]
    return keys


def _render_layers(
    release: Release, audience: AudienceRelease, base: str, here: str
) -> dict[str, Any]:
    doc = viewer_layers(dict(audience.style), load_catalog(release.path / "catalog.yml"))
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
