"""Geometries on their way out: NULL and empty blobs stay None in GeoJSON, geometries with
coordinate arrays are written as the bytes orjson writes for the GeoJSON dicts, CRS axis order."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import shapely

from publish.gpkg.geometry import from_blobs
from publish.ogc.geometry import ARRAYS_FROM, geojson_arrays, to_geojson, transform
from tests.gpkg.helpers import SQUARE, blob


def test_null_and_empty_geometries_are_none() -> None:
    empty = blob(shapely.Point(), 0, empty=True)
    geoms = from_blobs([None, empty, blob(SQUARE, 1)])
    assert geoms[0] is None and geoms[1] is None and geoms[2].equals(SQUARE)
    out = to_geojson(geoms)
    assert out[:2] == [None, None]
    assert out[2] is not None and out[2]["type"] == "Polygon"


def _written(geometries: object) -> bytes:
    return orjson.dumps(geometries, option=orjson.OPT_SERIALIZE_NUMPY)


def test_geometries_with_arrays_are_written_as_the_dicts() -> None:
    holed = SQUARE.difference(shapely.box(110.02, 29.02, 110.04, 29.04))
    far = shapely.affinity.translate(holed, 0.3, 0.1)
    geoms = np.array(
        [
            shapely.Point(110.123456789012345, 29.1),
            shapely.LineString([(110, 29), (110.1, 29.05), (1 / 3, -0.0)]),
            holed,
            shapely.MultiPoint([(110, 29), (110.5, 29.5)]),
            shapely.MultiLineString([[(110, 29), (111, 30)], [(110.2, 29.2), (110.3, 29.3)]]),
            shapely.MultiPolygon([holed, far]),
            None,
            shapely.Point(110, 29, 7.5),  # Z: written as GEOS writes it
            shapely.Polygon(),
            shapely.GeometryCollection([shapely.Point(1, 2), SQUARE]),
            shapely.MultiPolygon([holed]),
            SQUARE,  # one ring: the polygon's own coordinates
            shapely.MultiPolygon([SQUARE]),
            shapely.MultiPolygon([SQUARE, far]),
            shapely.MultiLineString([[(110, 29), (111, 30)]]),
            shapely.from_wkt("MULTIPOLYGON (EMPTY, ((110 29, 111 29, 111 30, 110 29)))"),
        ],
        dtype=object,
    )
    many = np.concatenate([geoms] * 2)  # enough for arrays (ARRAYS_FROM)
    written = geojson_arrays(many)
    assert isinstance(written[0]["coordinates"], np.ndarray)
    assert _written(written) == _written(to_geojson(many))
    for one in range(len(geoms)):  # each kind alone too
        kind = np.array([geoms[one]] * ARRAYS_FROM, dtype=object)
        assert _written(geojson_arrays(kind)) == _written(to_geojson(kind)), geoms[one]
    for kind in ([SQUARE, holed], [shapely.MultiPolygon([SQUARE]), shapely.MultiPolygon([holed])]):
        mixed = np.array(kind * ARRAYS_FROM, dtype=object)  # rings of some, not all
        assert _written(geojson_arrays(mixed)) == _written(to_geojson(mixed))
    assert geojson_arrays(geoms[:3]) == to_geojson(geoms[:3])  # short: the dicts
    assert geojson_arrays(np.array([], dtype=object)) == []


def test_transform_follows_the_target_crs_axis_order() -> None:
    from pyproj import CRS

    crs84 = CRS.from_user_input("OGC:CRS84").to_wkt()
    cgcs2000 = CRS.from_epsg(4490).to_wkt()
    gk111 = CRS.from_epsg(4546).to_wkt()
    point = np.array([shapely.Point(110.5, 29.2)], dtype=object)
    lat_lon = transform(point, crs84, cgcs2000)[0]
    assert (lat_lon.x, lat_lon.y) == pytest.approx((29.2, 110.5), abs=1e-9)
    north_east = transform(point, crs84, gk111)[0]
    assert north_east.x == pytest.approx(3_231_000, abs=2_000)  # northing first
    assert north_east.y == pytest.approx(451_400, abs=2_000)  # easting: 0.5° west of 111°E
