"""Request parsing: accepted CRSs and axis order, repair, and every refusal with its message."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from publish.sitecheck.inputs import InputLimits, SiteCheckInputError, parse_site

LON, LAT = 110.48, 29.13  # the city seat
CRS = "EPSG:4546"  # the sample city's working CRS


SQUARE = [[[LON, LAT], [LON + 0.01, LAT], [LON + 0.01, LAT + 0.01], [LON, LAT + 0.01], [LON, LAT]]]


def _polygon(coords: Any = SQUARE) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": coords}


def _expected_area() -> float:
    tr = Transformer.from_crs("OGC:CRS84", "EPSG:4546", always_xy=True)
    poly = shapely.Polygon(SQUARE[0])
    moved = shapely.transform(poly, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return float(moved.area)


def test_defaults() -> None:
    site = parse_site({"geometry": _polygon()}, work_crs=CRS)
    assert site.crs == "CRS84"
    assert site.surroundings_m == 1000
    assert site.intended_use is None
    assert site.repaired is False
    assert site.geometry.area == pytest.approx(_expected_area(), rel=1e-9)


@pytest.mark.parametrize("crs", ["EPSG:4490", "http://www.opengis.net/def/crs/EPSG/0/4490"])
def test_4490_is_lat_lon(crs: str) -> None:
    swapped = [[[y, x] for x, y in SQUARE[0]]]
    site = parse_site({"geometry": _polygon(swapped), "crs": crs}, work_crs=CRS)
    assert site.crs == "EPSG:4490"
    assert site.geometry.area == pytest.approx(_expected_area(), rel=1e-6)


@pytest.mark.parametrize("crs", ["EPSG:4546", "EPSG:3857"])
def test_projected_crs(crs: str) -> None:
    tr = Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
    coords = [[list(tr.transform(x, y)) for x, y in SQUARE[0]]]
    site = parse_site({"geometry": _polygon(coords), "crs": crs}, work_crs=CRS)
    assert site.geometry.area == pytest.approx(_expected_area(), rel=1e-6)


def test_point_with_buffer_and_geojson_text() -> None:
    text = '{"type": "Point", "coordinates": [110.48, 29.13]}'
    site = parse_site({"geometry": text, "buffer_m": 100, "intended_use": "1001"}, work_crs=CRS)
    assert site.geometry.area == pytest.approx(3.14159 * 100**2, rel=5e-3)
    assert site.buffer_m == 100
    assert site.intended_use == "1001"


def test_bow_tie_is_repaired() -> None:
    x0, y0, x1, y1 = LON, LAT, LON + 0.01, LAT + 0.01
    bow = _polygon([[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]])
    site = parse_site({"geometry": bow}, work_crs=CRS)
    assert site.repaired is True
    assert site.geometry.is_valid
    assert site.geometry.area == pytest.approx(_expected_area() / 2, rel=1e-2)


BAD: list[tuple[dict[str, Any], str]] = [
    ({}, "geometry is missing"),
    ({"geometry": "not json {"}, "not GeoJSON"),
    ({"geometry": {"type": "Polygon"}}, "not GeoJSON"),
    ({"geometry": [1, 2]}, "not GeoJSON"),
    ({"geometry": {"type": "Polygon", "coordinates": [[["a", "b"]]]}}, "not GeoJSON"),
    ({"geometry": {"type": "LineString", "coordinates": [[110, 29], [111, 29]]}}, "wrong type"),
    ({"geometry": _polygon(), "crs": "EPSG:4326x"}, "unknown CRS"),
    ({"geometry": _polygon(), "crs": 4326}, "unknown CRS"),
    (
        {"geometry": _polygon([[[200, 29], [201, 29], [201, 30], [200, 29]]])},
        "outside the valid area",
    ),
    (
        {"geometry": _polygon(), "crs": "EPSG:4490"},  # given lon,lat: lat 110 is impossible
        "outside the valid area of EPSG:4490",
    ),
    (
        {
            "geometry": _polygon([[[1e6, 3e6], [1.1e6, 3e6], [1.1e6, 3.1e6], [1e6, 3e6]]]),
            "crs": "EPSG:4546",
        },
        "outside the valid area of EPSG:4546",
    ),
    (
        {"geometry": _polygon([[[0, 0], [1, 0], [1, 1e8], [0, 0]]]), "crs": "EPSG:3857"},
        "outside the valid area of EPSG:3857",
    ),
    (
        {"geometry": _polygon([[[110, 29], [110.2, 29], [110.2, 29.2], [110, 29.2], [110, 29]]])},
        "above the limit of 100 km²",
    ),
    ({"geometry": {"type": "Point", "coordinates": [LON, LAT]}}, "needs buffer_m"),
    ({"geometry": {"type": "Point", "coordinates": [LON, LAT]}, "buffer_m": 0}, "needs buffer_m"),
    ({"geometry": {"type": "Point", "coordinates": [LON, LAT]}, "buffer_m": 1e6}, "needs buffer_m"),
    ({"geometry": _polygon(), "buffer_m": 10}, "buffer_m is for a Point only"),
    ({"geometry": _polygon(), "intended_use": "0799"}, "not a national land-use code"),
    ({"geometry": _polygon(), "intended_use": 1001}, "not a national land-use code"),
    ({"geometry": _polygon(), "surroundings_m": -1}, "surroundings_m must be between"),
    ({"geometry": _polygon(), "surroundings_m": "far"}, "surroundings_m must be a number"),
    ({"geometry": _polygon([[[LON, LAT], [LON + 0.01, LAT], [LON, LAT]]])}, "no area"),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SiteCheckInputError, match=message):
        parse_site(data, work_crs=CRS)


def test_too_many_vertices() -> None:
    ring = shapely.Point(LON, LAT).buffer(0.01, quad_segs=3000).exterior.coords
    data = {"geometry": _polygon([[list(c) for c in ring]])}
    with pytest.raises(
        SiteCheckInputError, match=r"too many vertices: 12001 \(the limit is 10000\)"
    ):
        parse_site(data, work_crs=CRS)
    assert parse_site(data, InputLimits(max_vertices=20_000), work_crs=CRS).geometry.is_valid


def test_area_limit_is_configurable() -> None:
    with pytest.raises(SiteCheckInputError, match=r"above the limit of 0\.5 km²"):
        parse_site({"geometry": _polygon()}, InputLimits(max_area_m2=0.5e6), work_crs=CRS)


def test_the_city_crs_is_the_working_crs() -> None:
    """With the city's working CRS EPSG:4547, the site is measured there (0.28 % more than in
    EPSG:4546 at the sample city), EPSG:4547 is accepted as input and EPSG:4546 is not."""
    site = parse_site({"geometry": _polygon()}, work_crs="EPSG:4547")
    tr = Transformer.from_crs("OGC:CRS84", "EPSG:4547", always_xy=True)
    moved = shapely.transform(
        shapely.Polygon(SQUARE[0]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    )
    assert (site.crs, site.work_crs) == ("CRS84", "EPSG:4547")
    assert site.geometry.area == pytest.approx(moved.area, rel=1e-9)
    assert site.geometry.area / _expected_area() - 1 > 0.002

    lon, lat = 114.3, 30.6  # inside EPSG:4547's zone (112.5–115.5°E)
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    given = [[list(tr.transform(x, y)) for x, y in ring]]
    site = parse_site({"geometry": _polygon(given), "crs": "EPSG:4547"}, work_crs="EPSG:4547")
    assert site.crs == "EPSG:4547"
    assert site.geometry.equals(shapely.Polygon(given[0]))  # taken as it is
    with pytest.raises(
        SiteCheckInputError, match="accepted are CRS84, EPSG:4490, EPSG:4547, EPSG:3857"
    ):
        parse_site({"geometry": _polygon(), "crs": "EPSG:4546"}, work_crs="EPSG:4547")
