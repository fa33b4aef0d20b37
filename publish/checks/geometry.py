"""Small geometry helpers shared by the checks: geometry families, repairs, ids and locations."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

LONLAT_CRS = "EPSG:4326"

# geometry families, as small integers so that they work on numpy arrays
MISSING, POINT, LINE, POLYGON, COLLECTION = -1, 0, 1, 2, 3
FAMILY_BY_NAME = {"point": POINT, "line": LINE, "polygon": POLYGON}
FAMILY_NAMES = {MISSING: "missing", POINT: "point", LINE: "line", POLYGON: "polygon"}
FAMILY_NAMES[COLLECTION] = "collection"

# shapely type id -> family: Point, LineString, LinearRing, Polygon, Multi*, GeometryCollection
_FAMILY_OF_TYPE = np.array([POINT, LINE, LINE, POLYGON, POINT, LINE, POLYGON, COLLECTION])
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
_EMPTY = {POINT: "POINT EMPTY", LINE: "LINESTRING EMPTY", POLYGON: "POLYGON EMPTY"}


def families(geoms: np.ndarray) -> np.ndarray:
    """The family (POINT, LINE, POLYGON, COLLECTION or MISSING for None) of each geometry."""
    type_ids = shapely.get_type_id(geoms)
    result = np.full(len(geoms), MISSING, dtype=np.int8)
    present = type_ids >= 0
    result[present] = _FAMILY_OF_TYPE[type_ids[present]]
    return result


def type_name(geom: shapely.Geometry | None) -> str:
    if geom is None:
        return "None"
    return _TYPE_NAMES[int(shapely.get_type_id(geom))]


def keep_family(geom: shapely.Geometry, family: int) -> shapely.Geometry:
    """The parts of ``geom`` of one family, as a single or multi geometry (multi only when the
    parts are several); an empty geometry of the family when there are none."""
    if families(np.array([geom], dtype=object))[0] == family:
        return geom
    parts = np.array([geom], dtype=object)
    while True:  # flatten nested collections and multi-geometries
        type_ids = shapely.get_type_id(parts)
        if not (type_ids >= 4).any():
            break
        parts = shapely.get_parts(parts)
    parts = parts[(families(parts) == family) & ~shapely.is_empty(parts)]
    if len(parts) == 0:
        return shapely.from_wkt(_EMPTY[family])
    if len(parts) == 1:
        return parts[0]
    if family == POLYGON:
        return shapely.multipolygons(parts)
    if family == LINE:
        return shapely.multilinestrings(parts)
    return shapely.multipoints(parts)


def id_text(value: Any) -> str | None:
    """An id field value as text (integral floats without ".0"), None when missing."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def lonlat(x: float, y: float) -> tuple[float, float] | None:
    """A lon/lat pair rounded to 6 decimals, None when the coordinates are not finite."""
    if not (np.isfinite(x) and np.isfinite(y)):
        return None
    return (round(float(x), 6), round(float(y), 6))


@cache
def _to_lonlat(source: str) -> Transformer:
    return Transformer.from_crs(source, LONLAT_CRS, always_xy=True)


def points_to_lonlat(points: np.ndarray, source: str) -> list[tuple[float, float] | None]:
    """Points (shapely) in ``source`` as lon/lat pairs (6 decimals; None for empty points)."""
    if len(points) == 0:
        return []
    x, y = point_xy(points)
    lon, lat = _to_lonlat(source).transform(x, y)
    return [lonlat(a, b) for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat), strict=True)]


def point_xy(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of points, NaN for empty or missing ones."""
    x = np.full(len(points), np.nan)
    y = np.full(len(points), np.nan)
    present = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    x[present] = shapely.get_x(points[present])
    y[present] = shapely.get_y(points[present])
    return x, y


def make_valid_array(geoms: np.ndarray) -> np.ndarray:
    """The geometries with the invalid ones (only) repaired by make_valid."""
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not invalid.any():
        return geoms
    geoms = geoms.copy()
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms
