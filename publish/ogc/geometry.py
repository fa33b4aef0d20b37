"""Geometries on their way out of the OGC API: to GeoJSON, and CRS changes on whole arrays.

Geometries come from the GeoPackage as shapely arrays (publish.gpkg.geometry reads the blobs).
`to_geojson` gives GeoJSON objects (dicts); `geojson_fragments` gives the same GeoJSON already
encoded, for an answer orjson encodes (publish.ogc.encoding): each geometry's coordinates are
written by orjson straight from shapely's coordinate array, without GEOS's GeoJSON text and
without a dict and a float object per coordinate in between. The bytes are those orjson writes
for `to_geojson`'s dicts (the same keys in the same order, the same shortest float repr).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer

_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def to_geojson(geometries: np.ndarray) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects (None stays None)."""
    if len(geometries) == 0:
        return []
    texts = shapely.to_geojson(geometries)
    return [None if text is None else orjson.loads(text) for text in texts]


# shapely's type ids of the geometries `geojson_fragments` writes itself, and their GeoJSON names
_GEOJSON_TYPES = {
    0: b"Point",
    1: b"LineString",
    3: b"Polygon",
    4: b"MultiPoint",
    5: b"MultiLineString",
    6: b"MultiPolygon",
}


def _nested(coords: np.ndarray, offsets: tuple[np.ndarray, ...]) -> list[Any]:
    """Per geometry, its coordinates nested as GeoJSON nests them (shapely.to_ragged_array's
    offsets, innermost first), the innermost level as slices of `coords`."""
    if not offsets:  # points: one coordinate each
        return list(coords)
    parts: list[Any] = [coords[a:b] for a, b in pairwise(offsets[0].tolist())]
    for level in offsets[1:]:
        parts = [parts[a:b] for a, b in pairwise(level.tolist())]
    return parts


def geojson_fragments(geometries: np.ndarray) -> list[Any]:
    """`to_geojson`'s geometries as encoded JSON (`orjson.Fragment`) for orjson to copy into
    an answer; geometries with Z, empty ones and collections come as `to_geojson`'s dicts."""
    out: list[Any] = [None] * len(geometries)
    if len(geometries) == 0:
        return out
    kinds = shapely.get_type_id(geometries)
    written = np.isin(kinds, list(_GEOJSON_TYPES))
    written &= ~shapely.is_empty(geometries) & ~shapely.has_z(geometries)
    for kind, name in _GEOJSON_TYPES.items():
        where = np.flatnonzero(written & (kinds == kind))
        if len(where) == 0:
            continue
        _, coords, offsets = shapely.to_ragged_array(geometries[where], include_z=False)
        head = b'{"type":"' + name + b'","coordinates":'
        for index, nested in zip(where.tolist(), _nested(coords, offsets), strict=True):
            out[index] = orjson.Fragment(head + orjson.dumps(nested, option=_NUMPY) + b"}")
    rest = np.flatnonzero(~written & (kinds >= 0))
    for index, geometry in zip(rest.tolist(), to_geojson(geometries[rest]), strict=True):
        out[index] = geometry
    return out


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
