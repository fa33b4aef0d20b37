"""Direct shapely computations on the release's features, to compare the site check with."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

WORK = "EPSG:4546"


@cache
def layer_4546(gpkg: Path, layer: str) -> gpd.GeoDataFrame:
    """A release table read with pyogrio, projected to EPSG:4546."""
    return pyogrio.read_dataframe(gpkg, layer=layer, fid_as_index=True).to_crs(WORK)


def overlap(gpkg: Path, layer: str, site: Any) -> float:
    """Area (m²) of site ∩ the union of the layer's features, computed directly."""
    frame = layer_4546(gpkg, layer)
    hits = frame.geometry[frame.geometry.intersects(site)]
    if hits.empty:
        return 0.0
    return float(shapely.union_all(shapely.intersection(site, hits.values)).area)


def by_code(gpkg: Path, layer: str, field: str, site: Any) -> dict[str, float]:
    frame = layer_4546(gpkg, layer)
    hits = frame[frame.geometry.intersects(site)]
    areas = shapely.area(shapely.intersection(site, hits.geometry.values))
    result: dict[str, float] = {}
    for code, area in zip(hits[field], areas, strict=True):
        if area > 0:
            result[code] = result.get(code, 0.0) + float(area)
    return result


def to_crs(site: Any, crs: str) -> dict[str, Any]:
    """The EPSG:4546 site as GeoJSON in `crs` (EPSG:4490 lat,lon as OGC API gives it)."""
    if crs == WORK:
        moved = site
    else:
        target = "OGC:CRS84" if crs in ("CRS84", "EPSG:4490") else crs
        tr = Transformer.from_crs(WORK, target, always_xy=True)
        moved = shapely.transform(site, lambda xy: _move(tr, xy))
        if crs == "EPSG:4490":
            moved = shapely.transform(moved, lambda xy: xy[:, ::-1])
    return shapely.geometry.mapping(moved)


def _move(tr: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])
