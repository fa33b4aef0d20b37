"""The MapProxy source `onemap_raster`: tiles rendered in-process by mapli from a release's own
style, feature info from the release's feature store, legends from the style.

Registered with MapProxy's plugin API (`register_source_configuration`) before a configuration
is loaded (`register()`; idempotent). A source names the release folder, the audience and the
layer (a catalog layer id or `plan`); its tiles are those of the Web Mercator grid it is given,
drawn by the process's shared renderer (publish.raster.renderer) under the same style key the
/raster endpoint uses. This module imports MapProxy: import it only when MapProxy is needed.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar

from mapproxy.config.configuration.base import ConfigurationError
from mapproxy.config.configuration.source import SourceConfiguration, register_source_configuration
from mapproxy.config.spec import coverage, image_opts
from mapproxy.featureinfo import create_featureinfo_doc, featureinfo_type
from mapproxy.image import ImageResult
from mapproxy.source import InfoSource, LegendSource
from mapproxy.source.tile import TiledSource
from mapproxy.srs import SRS
from mapproxy.util.ext.dictspec.spec import required

from publish.raster.processes import shared_renderer
from publish.raster.style import PLAN, rendering_style, style_key, visible_layer_ids
from publish.wms.config import SOURCE_TYPE, WEBMERCATOR
from publish.wms.featureinfo import (
    DEFAULT_FEATURE_COUNT,
    MAX_FEATURE_COUNT,
    InfoLayer,
    as_geojson,
    as_html,
    as_text,
    features_at,
)
from publish.wms.legend import legend_json, legend_png

TOLERANCE_PX = 4  # feature info: pixels around the click that count as a hit
_WGS84 = "EPSG:4326"
_registered = threading.Lock()
_done: list[bool] = []


class ReleaseFiles:
    """What a source reads from a release folder for one audience (read once)."""

    def __init__(self, root: Path, audience: str) -> None:
        self.root = Path(root)
        self.audience = audience
        self.release_id = self.root.name

    @cached_property
    def manifest(self) -> dict[str, Any]:
        from publish.release.manifest import read_manifest

        return read_manifest(self.root)

    @cached_property
    def entry(self) -> dict[str, Any]:
        entry = (self.manifest.get("audiences") or {}).get(self.audience)
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{self.root}: no audience {self.audience!r}")
        return entry

    @cached_property
    def style(self) -> dict[str, Any]:
        style: dict[str, Any] = json.loads((self.root / self.entry["style"]).read_bytes())
        return style

    @property
    def archive(self) -> Path:
        return self.root / self.entry["tiles"]["path"]

    @property
    def features(self) -> Path:
        return self.root / self.entry["features"]

    def info_layers(self, layer: str) -> list[InfoLayer]:
        """The layers a click on `layer` asks about, the top of the map first."""
        ids = list(reversed(visible_layer_ids(self.style))) if layer == PLAN else [layer]
        allowed = set(self.entry["layers"])
        titles = {
            item["id"]: item.get("title") or {}
            for item in (self.manifest.get("catalog") or {}).get("layers", [])
        }
        return [
            InfoLayer(i, str(titles.get(i, {}).get("zh", i)), str(titles.get(i, {}).get("en", i)))
            for i in ids
            if i in allowed
        ]


@lru_cache(maxsize=8)
def release_files(root: str, audience: str) -> ReleaseFiles:
    """One `ReleaseFiles` per release and audience, shared by all the sources of a config."""
    return ReleaseFiles(Path(root), audience)


class RasterTileClient:
    """MapProxy's tile client interface (`get_tile`), drawing with the shared renderer."""

    def __init__(self, files: ReleaseFiles, layer: str) -> None:
        self.files = files
        self.layer = layer
        self.key = style_key(files.release_id, files.audience, layer)

    def _style(self) -> dict[str, Any]:
        return rendering_style(self.files.style, self.files.archive, self.layer)

    def get_tile(self, tile_coord: Sequence[int], format: str | None = None) -> ImageResult:
        x, y, z = tile_coord  # the grid's origin is the top left: XYZ numbering
        png = shared_renderer().render_tile(self.key, self._style, z, x, y)
        return ImageResult(io.BytesIO(png))

    def __repr__(self) -> str:
        return f"<RasterTileClient {self.key}>"


class StyleInfoSource(InfoSource):
    """GetFeatureInfo from the release's GeoPackage for the source's layer(s)."""

    def __init__(self, files: ReleaseFiles, layer: str) -> None:
        self.files = files
        self.layer = layer

    def get_info(self, query: Any) -> Any:
        x, y = query.coord
        (minx, miny, maxx, maxy), (w, h) = query.bbox, query.size
        dx, dy = TOLERANCE_PX * (maxx - minx) / w, TOLERANCE_PX * (maxy - miny) / h
        box = (x - dx, y - dy, x + dx, y + dy)
        srs = SRS(query.srs)  # an SRS object passes through
        lonlat = srs.transform_bbox_to(SRS(_WGS84), box)
        limit = min(int(query.feature_count or DEFAULT_FEATURE_COUNT), MAX_FEATURE_COUNT)
        found = features_at(
            self.files.features, self.files.info_layers(self.layer), tuple(lonlat), limit
        )
        kind = featureinfo_type(query.info_format or "text/plain")
        render = {"json": as_geojson, "html": as_html}.get(kind, as_text)
        return create_featureinfo_doc(render(found), query.info_format or "text/plain")


class StyleLegendSource(LegendSource):
    """GetLegendGraphic from the style's legend (publish.styles.legend)."""

    def __init__(self, files: ReleaseFiles, layer: str) -> None:
        self.files = files
        self.layer = layer
        self.identifier = style_key(files.release_id, files.audience, layer)

    @cached_property
    def _png(self) -> bytes:
        return legend_png(self.files.style, self.layer)

    @property
    def size(self) -> tuple[int, int]:
        from PIL import Image

        width, height = Image.open(io.BytesIO(self._png)).size
        return width, height

    def get_legend(self, query: Any) -> Any:
        if query.format and "json" in str(query.format):
            return legend_json(self.files.style, self.layer)
        return ImageResult(io.BytesIO(self._png))


class RasterSourceConfiguration(SourceConfiguration):
    source_type = (SOURCE_TYPE,)
    supports_meta_tiles = False
    defaults: ClassVar[dict[str, Any]] = {}

    def _files(self) -> ReleaseFiles:
        return release_files(self.conf["release"], self.conf["audience"])

    def source(self, params: Any = None) -> TiledSource:
        grid_name = self.conf.get("grid", WEBMERCATOR)
        if grid_name not in self.context.grids:
            raise ConfigurationError(f"{SOURCE_TYPE}: unknown grid {grid_name!r}")
        grid = self.context.grids[grid_name].tile_grid()
        client = RasterTileClient(self._files(), self.conf["layer"])
        return TiledSource(grid, client, coverage=self.coverage(), image_opts=self.image_opts())

    def fi_source(self, params: Any = None) -> StyleInfoSource:
        return StyleInfoSource(self._files(), self.conf["layer"])

    def lg_source(self, params: Any = None) -> StyleLegendSource:
        return StyleLegendSource(self._files(), self.conf["layer"])


def register() -> None:
    """Make `type: onemap_raster` known to MapProxy (once per process)."""
    with _registered:
        if _done:
            return
        spec = {
            required("type"): "",
            required("release"): "",
            required("audience"): "",
            required("layer"): "",
            "grid": "",
            "coverage": coverage,
            "image": image_opts,
            "transparent": False,
        }
        register_source_configuration(SOURCE_TYPE, RasterSourceConfiguration, SOURCE_TYPE, spec)
        _done.append(True)


__all__ = ["RasterSourceConfiguration", "register", "release_files"]
