"""Geometries on their way out: NULL and empty blobs stay None in GeoJSON, CRS axis order."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from publish.gpkg.geometry import from_blobs
from publish.ogc.geometry import to_geojson, transform
from tests.gpkg.helpers import SQUARE, blob


def test_null_and_empty_geometries_are_none() -> None:
    empty = blob(shapely.Point(), 0, empty=True)
    geoms = from_blobs([None, empty, blob(SQUARE, 1)])
    assert geoms[0] is None and geoms[1] is None and geoms[2].equals(SQUARE)
    out = to_geojson(geoms)
    assert out[:2] == [None, None]
    assert out[2] is not None and out[2]["type"] == "Polygon"


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
