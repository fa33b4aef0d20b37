"""Geometries on their way out of the OGC API: to GeoJSON, and CRS changes on whole arrays.

Geometries come from the GeoPackage as shapely arrays (publish.gpkg.geometry reads the blobs).
`to_geojson` gives GeoJSON objects (dicts, a float object per coordinate); `geojson_arrays` gives
the same objects with their coordinates as rows of shapely's coordinate array (numpy), for an
answer orjson encodes with its numpy option (publish.ogc.encoding): orjson writes the numbers
straight from the array, without GEOS's GeoJSON text and without a float object per coordinate
in between, all in the one `orjson.dumps` of the answer. The bytes are those orjson writes for
`to_geojson`'s dicts (the same keys in the same order, the same shortest float repr).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer

# Geometries in an array from which arrays pay: fewer, to_geojson's dicts are cheaper (written
# by orjson, 100 parcels: 148 µs against 418; 8: 29 against 28; 1: 19 against 4).
ARRAYS_FROM = 8


def to_geojson(geometries: np.ndarray) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects (None stays None)."""
    if len(geometries) == 0:
        return []
    texts = shapely.to_geojson(geometries)
    return [None if text is None else orjson.loads(text) for text in texts]


# shapely's type ids of the geometries `geojson_arrays` writes itself, and their GeoJSON names
_POINT, _LINE, _POLYGON, _MULTIPOINT, _MULTILINE, _MULTIPOLYGON = 0, 1, 3, 4, 5, 6
_GEOJSON_TYPES = {
    _POINT: "Point",
    _LINE: "LineString",
    _POLYGON: "Polygon",
    _MULTIPOINT: "MultiPoint",
    _MULTILINE: "MultiLineString",
    _MULTIPOLYGON: "MultiPolygon",
}
# A level of nesting: which item of the level above each item belongs to (None: one item each,
# in order) and how many items that level has.
Level = tuple[list[int] | None, int]


def _rings(polygons: np.ndarray) -> tuple[np.ndarray, list[Level]]:
    """The rings of polygons and their level. Polygons without holes (most parcels) are their
    own rings: their coordinates are their exterior's, one ring each. An empty polygon (a part
    of a multipolygon) has one empty ring, as GEOS writes it."""
    empty = shapely.is_empty(polygons)
    if not (shapely.get_num_interior_rings(polygons).any() or empty.any()):
        return polygons, [(None, len(polygons))]
    rings, owner = shapely.get_rings(polygons, return_index=True)
    if empty.any():
        hollow = np.flatnonzero(empty)
        rings = np.concatenate([rings, [shapely.from_wkt("LINEARRING EMPTY")] * len(hollow)])
        owner = np.concatenate([owner, hollow])
        order = np.argsort(owner, kind="stable")
        rings, owner = rings[order], owner[order]
    return rings, [(owner.tolist(), len(polygons))]


def _parts(geometries: np.ndarray) -> tuple[np.ndarray, Level]:
    """The parts of non-empty multi-geometries and their level (one each when there are as
    many parts as geometries: every non-empty geometry has at least one)."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    if len(parts) == len(geometries):
        return parts, (None, len(geometries))
    return parts, (owner.tolist(), len(geometries))


def _sequences(geometries: np.ndarray, kind: int) -> tuple[np.ndarray, list[Level]]:
    """The coordinate sequences of non-empty geometries of one kind, in GeoJSON's order, and
    their levels of nesting, innermost first."""
    if kind == _POLYGON:
        return _rings(geometries)
    if kind == _MULTILINE:
        lines, level = _parts(geometries)
        return lines, [level]
    if kind == _MULTIPOLYGON:
        polygons, level = _parts(geometries)
        rings, levels = _rings(polygons)
        return rings, [*levels, level]
    return geometries, []  # points, lines, multipoints: one sequence each


def _nested(geometries: np.ndarray, kind: int) -> list[Any]:
    """Per geometry of one kind, its coordinates nested as GeoJSON nests them, the innermost
    level as rows of one coordinate array (orjson writes numpy arrays itself)."""
    sequences, levels = _sequences(geometries, kind)
    coords = shapely.get_coordinates(sequences)
    if kind == _POINT:
        return list(coords)
    ends = np.cumsum(shapely.get_num_coordinates(sequences)).tolist()
    items: list[Any] = [coords[a:b] for a, b in pairwise([0, *ends])]
    for owners, count in levels:
        if owners is None:
            items = [[item] for item in items]
            continue
        grouped: list[list[Any]] = [[] for _ in range(count)]
        for item, owner in zip(items, owners, strict=True):
            grouped[owner].append(item)
        items = grouped
    return items


def geojson_arrays(geometries: np.ndarray) -> list[Any]:
    """`to_geojson`'s geometries with their coordinates as numpy arrays, for orjson's numpy
    option to write; geometries with Z, empty ones and collections come as `to_geojson`'s dicts,
    and so do all of a short array (fewer than ARRAYS_FROM: numpy's cost per call outweighs
    what it saves)."""
    if len(geometries) < ARRAYS_FROM:
        return to_geojson(geometries)
    out: list[Any] = [None] * len(geometries)
    kinds = shapely.get_type_id(geometries)
    plain = ~shapely.is_empty(geometries) & ~shapely.has_z(geometries)
    kind_of = kinds.tolist()
    for kind in set(kind_of):
        name = _GEOJSON_TYPES.get(kind)
        if name is None:
            continue
        where = np.flatnonzero(plain & (kinds == kind))
        for index, nested in zip(where.tolist(), _nested(geometries[where], kind), strict=True):
            out[index] = {"type": name, "coordinates": nested}
    rest = [i for i, geometry in enumerate(out) if geometry is None and kind_of[i] >= 0]
    for index, geometry in zip(rest, to_geojson(geometries[rest]), strict=True):
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
