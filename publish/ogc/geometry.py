"""Geometries on their way out of the OGC API: to GeoJSON, and CRS changes on whole arrays.

Geometries come from the GeoPackage as shapely arrays (publish.gpkg.geometry reads the blobs).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer


def to_geojson(geometries: np.ndarray) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects (None stays None)."""
    if len(geometries) == 0:
        return []
    texts = shapely.to_geojson(geometries)
    return [None if text is None else orjson.loads(text) for text in texts]


@lru_cache(maxsize=32)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer:
    # Authority axis order on both sides, as pygeoapi's own `crs_transform` does: CRS84 in
    # (lon, lat), EPSG:4490 out in (lat, lon), EPSG:4546 out in (northing, easting).
    return Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt))


def transform(geometries: np.ndarray, source_wkt: str, target_wkt: str) -> np.ndarray:
    """The geometries with their coordinates transformed from one CRS (WKT) to another."""
    transformer = _transformer(source_wkt, target_wkt)

    def change(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geometries, change), dtype=object)
