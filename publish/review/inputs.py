"""What a review report is written from: the catalog and the layers as the build made them,
the time, and the release it belongs to (None when the build was refused)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd

    from publish.catalog import Catalog
    from publish.release.output import LayerResult

__all__ = ["ReportInputs"]


@dataclass(frozen=True)
class ReportInputs:
    catalog: Catalog
    catalog_source: Path  # the catalog file as the build was given it
    layers: Mapping[str, LayerResult]  # by layer id: what the build read (a refused build too)
    when: datetime  # the build's start (UTC)
    release_id: str | None = None  # None: refused, nothing published
    tools: Mapping[str, Any] = field(default_factory=dict)  # tool versions (tool_versions())
    # a layer in the catalog's working CRS, read once per build (the build's own cache)
    frame: Callable[[LayerResult], gpd.GeoDataFrame] | None = None
    # what the cross-layer checks measured: {"checked": {rule kind: {layer id: features}},
    # "control_lines": publish.checks.cross.measure_control_lines + "city_layer"}
    cross: Mapping[str, Any] = field(default_factory=dict)
    styles_dir: Path | None = None  # the style symbols of the finding maps (None: the package's)

    @property
    def catalog_dir(self) -> Path:
        return Path(self.catalog_source).resolve().parent

    @property
    def refused(self) -> bool:
        return self.release_id is None

    @property
    def outcome(self) -> str:
        """ "release <id>" or "refused <UTC time>", for the report's title and context."""
        if self.release_id is not None:
            return f"release {self.release_id}"
        return f"refused {self.when.strftime('%Y-%m-%d %H:%M:%S UTC')}"

    def relative(self, path: str | os.PathLike[str]) -> str:
        """`path` as the report shows it: relative to the catalog's folder (POSIX slashes);
        a path outside it by its file name only. A report never names the build machine's
        folders."""
        resolved = Path(path).resolve()
        try:
            return resolved.relative_to(self.catalog_dir).as_posix()
        except ValueError:
            return resolved.name

    def scrub(self, text: str) -> str:
        """`text` with every mention of the catalog's folder made relative (source errors name
        their file by its absolute path)."""
        folder = str(self.catalog_dir)
        return text.replace(folder + os.sep, "").replace(folder, ".")
