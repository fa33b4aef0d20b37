"""Tests for publish.crs.gcj02 (GCJ-02 ⇄ WGS84).

Reference values are deliberately taken from outside this code base:

* the forward transform is checked against test vectors published by the eviltransform
  project (googollee/eviltransform, python test suite: Shanghai, Shenzhen, Beijing) and the
  coordtransform project (wandergis/coordtransform, test/app.js);
* the inverse is checked against those same published pairs (run backwards) and against the
  Zhangjiajie county seats and DataV county boundaries in ../shared/data/zhangjiajie, which were
  converted GCJ-02 → WGS84 by someone else's implementation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from publish.crs.gcj02 import (
    gcj02_to_wgs84,
    out_of_china,
    transform_geometry_gcj02_to_wgs84,
    wgs84_to_gcj02,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "shared/data/zhangjiajie"

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat)
PUBLISHED_PAIRS = [
    # eviltransform python/test.py (stored there as lat, lng; reordered to lon, lat here)
    pytest.param(121.5272106, 31.1774276, 121.531541859215, 31.17530398364597, id="shanghai"),
    pytest.param(113.912316, 22.543847, 113.9171764808363, 22.540796131694766, id="shenzhen"),
    pytest.param(116.377817, 39.911954, 116.38404722455657, 39.91334545536069, id="beijing"),
    # wandergis/coordtransform test/app.js: wgs84togcj02(116.404, 39.915)
    pytest.param(116.404, 39.915, 116.41024449916938, 39.91640428150164, id="coordtransform"),
]

ZJJ_BOX = (109.7, 111.33, 28.88, 29.79)  # lon_min, lon_max, lat_min, lat_max
GEOD = Geod(ellps="WGS84")


def _load(name: str) -> dict[str, Any]:
    path = DATA_DIR / name  # ../shared is beside every checkout, CI's included
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _random_zjj_points(n: int, seed: int = 20240611) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon_min, lon_max, lat_min, lat_max = ZJJ_BOX
    return rng.uniform(lon_min, lon_max, n), rng.uniform(lat_min, lat_max, n)


# --- 1. published reference pairs -------------------------------------------------------------


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PUBLISHED_PAIRS)
def test_forward_matches_published_vectors(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PUBLISHED_PAIRS)
def test_inverse_recovers_published_wgs84(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=1e-7)
    assert lat == pytest.approx(wlat, abs=1e-7)


def test_forward_is_vectorised_over_published_vectors() -> None:
    values = np.array([p.values for p in PUBLISHED_PAIRS], dtype=np.float64)
    lon, lat = wgs84_to_gcj02(values[:, 0], values[:, 1])
    np.testing.assert_allclose(lon, values[:, 2], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lat, values[:, 3], rtol=0, atol=1e-9)


def test_county_seats_match_shared_wgs84_file() -> None:
    gcj = _load("zjj_county_seats_gcj02.geojson")
    wgs = _load("zjj_county_seats_wgs84.geojson")
    g = np.array([f["geometry"]["coordinates"] for f in gcj["features"]], dtype=np.float64)
    w = np.array([f["geometry"]["coordinates"] for f in wgs["features"]], dtype=np.float64)
    assert [f["properties"]["XZQDM"] for f in gcj["features"]] == [
        f["properties"]["XZQDM"] for f in wgs["features"]
    ]
    lon, lat = gcj02_to_wgs84(g[:, 0], g[:, 1])
    # The WGS84 file is an exact inversion rounded to 6 decimals (its "approx. 1 m residual"
    # note is conservative): measured differences are <= 4.8e-7 deg, i.e. within rounding.
    # 6e-7 deg (~6 cm) is half a unit in the 6th decimal plus margin.
    np.testing.assert_allclose(lon, w[:, 0], rtol=0, atol=6e-7)
    np.testing.assert_allclose(lat, w[:, 1], rtol=0, atol=6e-7)
    # The tolerance discriminates: the naive one-step inverse 2g - f(g) misses by up to ~1.6e-5.
    f_lon, f_lat = wgs84_to_gcj02(g[:, 0], g[:, 1])
    naive_err = np.maximum(
        np.abs(2 * g[:, 0] - f_lon - w[:, 0]), np.abs(2 * g[:, 1] - f_lat - w[:, 1])
    )
    assert naive_err.max() > 5e-6


def test_county_polygons_match_shared_wgs84_file() -> None:
    gcj = _load("zjj_counties_datav_gcj02.geojson")
    wgs = _load("zjj_counties_datav_wgs84.geojson")
    assert len(gcj["features"]) == len(wgs["features"]) == 4
    for fg, fw in zip(gcj["features"], wgs["features"], strict=True):
        assert fg["properties"]["XZQDM"] == fw["properties"]["XZQDM"]
        src = shape(fg["geometry"])
        out = transform_geometry_gcj02_to_wgs84(src)
        ref = shape(fw["geometry"])
        # Full-precision file: agrees with this inverse to ~2e-10 deg; allow 1e-8 (~1 mm).
        np.testing.assert_allclose(
            shapely.get_coordinates(out), shapely.get_coordinates(ref), rtol=0, atol=1e-8
        )


# --- 2. round trip and residual ---------------------------------------------------------------


def test_round_trip_random_points_over_zhangjiajie() -> None:
    lon, lat = _random_zjj_points(10_000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(back_lon - lon)) < 1e-7
    assert np.max(np.abs(back_lat - lat)) < 1e-7


def test_inverse_residual_below_requirement() -> None:
    # Treat random points as GCJ-02 input: f(inverse(g)) must reproduce g.
    glon, glat = _random_zjj_points(10_000, seed=7)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    rlon, rlat = wgs84_to_gcj02(wlon, wlat)
    residual = max(np.max(np.abs(rlon - glon)), np.max(np.abs(rlat - glat)))
    assert residual < 1e-7  # the default tol; the requirement is 1e-6
    # ...and the inverse moved the points by the expected few hundred metres (~5e-3 deg).
    assert 1e-3 < np.max(np.abs(wlon - glon)) < 1e-2


def test_shapes_and_scalar_types() -> None:
    lon, lat = _random_zjj_points(12)
    glon, glat = wgs84_to_gcj02(lon.reshape(3, 4), lat.reshape(3, 4))
    assert glon.shape == glat.shape == (3, 4)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert wlon.shape == (3, 4)
    np.testing.assert_allclose(wlon.ravel(), lon, rtol=0, atol=1e-7)
    np.testing.assert_allclose(wlat.ravel(), lat, rtol=0, atol=1e-7)

    s_lon, s_lat = gcj02_to_wgs84(110.48, 29.13)
    assert type(s_lon) is float
    assert type(s_lat) is float
    f_lon, f_lat = wgs84_to_gcj02(110.48, 29.13)
    assert type(f_lon) is float
    assert type(f_lat) is float

    # Broadcasting a scalar latitude against an array of longitudes.
    b_lon, b_lat = gcj02_to_wgs84(np.array([110.0, 110.5]), 29.0)
    assert b_lon.shape == b_lat.shape == (2,)

    e_lon, e_lat = gcj02_to_wgs84(np.array([]), np.array([]))
    assert e_lon.size == e_lat.size == 0


def test_nan_propagates_without_breaking_convergence() -> None:
    lon, lat = gcj02_to_wgs84(np.array([110.48, np.nan]), np.array([29.13, 29.13]))
    assert np.isfinite(lon[0]) and np.isfinite(lat[0])
    assert np.isnan(lon[1])


def test_bad_parameters_and_non_convergence() -> None:
    with pytest.raises(ValueError):
        gcj02_to_wgs84(110.48, 29.13, tol=0.0)
    with pytest.raises(ValueError):
        gcj02_to_wgs84(110.48, 29.13, max_iter=0)
    with pytest.raises(RuntimeError):
        gcj02_to_wgs84(110.48, 29.13, tol=1e-30, max_iter=2)


# --- 3. size and direction of the offset ------------------------------------------------------


def test_offset_at_city_centre() -> None:
    # GCJ-02 minus WGS84, i.e. the shift applied going WGS84 -> GCJ-02, at Zhangjiajie centre.
    lon, lat = 110.48, 29.13
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, east = GEOD.inv(lon, lat, glon, lat)
    _, _, north = GEOD.inv(lon, lat, lon, glat)
    east = math.copysign(east, glon - lon)
    north = math.copysign(north, glat - lat)
    assert 460 < east < 500  # ~480 m east
    assert -340 < north < -290  # ~316 m south
    _, _, total = GEOD.inv(lon, lat, glon, glat)
    assert 500 < total < 650  # "a few hundred metres"
    # The inverse applies the opposite shift.
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    assert wlon < lon and wlat > lat


# --- 4. outside China and geometries ----------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(-0.1276, 51.5072), (139.6917, 35.6895), (151.2093, -33.8688), (37.6173, 55.7558)],
    ids=["london", "tokyo", "sydney", "moscow"],
)
def test_outside_china_unchanged(lon: float, lat: float) -> None:
    assert bool(out_of_china(lon, lat))
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_mixed_inside_and_outside_arrays() -> None:
    lon = np.array([139.6917, 110.48])
    lat = np.array([35.6895, 29.13])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon[0] == lon[0] and glat[0] == lat[0]
    assert glon[1] != lon[1] and glat[1] != lat[1]
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    np.testing.assert_allclose(wlon, lon, rtol=0, atol=1e-7)
    np.testing.assert_allclose(wlat, lat, rtol=0, atol=1e-7)


def _rings(geom: Polygon | MultiPolygon) -> list[int]:
    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    return [1 + len(p.interiors) for p in polys]


def test_geometry_transform_keeps_structure_and_validity() -> None:
    shell = [(110.40, 29.10), (110.60, 29.10), (110.60, 29.25), (110.40, 29.25)]
    hole = [(110.45, 29.15), (110.50, 29.15), (110.50, 29.20), (110.45, 29.20)]
    poly = Polygon(shell, [hole])
    multi = MultiPolygon([poly, Polygon([(111.0, 29.4), (111.1, 29.4), (111.05, 29.5)])])
    assert multi.is_valid

    out = transform_geometry_gcj02_to_wgs84(multi)
    assert isinstance(out, MultiPolygon)
    assert out.is_valid
    assert _rings(out) == _rings(multi) == [2, 1]
    assert shapely.get_num_coordinates(out) == shapely.get_num_coordinates(multi)

    # Same numbers as the point function.
    src = shapely.get_coordinates(multi)
    exp_lon, exp_lat = gcj02_to_wgs84(src[:, 0], src[:, 1])
    np.testing.assert_array_equal(shapely.get_coordinates(out), np.column_stack([exp_lon, exp_lat]))


def test_geometry_transform_real_boundaries_stay_valid() -> None:
    gcj = _load("zjj_counties_datav_gcj02.geojson")
    for feature in gcj["features"]:
        src = shape(feature["geometry"])
        out = transform_geometry_gcj02_to_wgs84(src)
        assert out.is_valid == src.is_valid is True
        assert out.geom_type == src.geom_type
        assert _rings(out) == _rings(src)


def test_geometry_transform_keeps_z_and_handles_arrays() -> None:
    out = transform_geometry_gcj02_to_wgs84(Point(110.48, 29.13, 250.0))
    assert out.has_z
    assert out.z == 250.0
    exp_lon, exp_lat = gcj02_to_wgs84(110.48, 29.13)
    assert (out.x, out.y) == (exp_lon, exp_lat)

    arr = np.array([Point(110.48, 29.13), Point(139.6917, 35.6895)], dtype=object)
    res = transform_geometry_gcj02_to_wgs84(arr)
    assert res.shape == (2,)
    assert res[1].equals(arr[1])
