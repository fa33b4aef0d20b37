"""The plan's indicators: on the clean sample city, checked against direct computations."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import shapely

from publish.catalog import load_catalog
from publish.errors import BuildError
from publish.features.indicators import (
    INDICATOR_COLUMNS,
    compute_indicators,
    indicator_rows,
    write_indicators_table,
)
from publish.features.store import assemble
from publish.gpkg.schema import gpkg_has_rtree
from publish.sources import read_layer_native
from tests.features.helpers import squares, write_layer

CRS = "EPSG:4546"  # the sample city's working CRS


M = "EPSG:4546"
LAYERS = {"counties": "xzq_xian", "red_line": "stbhhx", "farmland": "yjjbnt"}
LAYERS |= {"urban_boundary": "czkfbj", "land_use": "ydyh"}


@pytest.fixture(scope="module")
def frames(sample_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    catalog = load_catalog(sample_dir / "layers.yml")
    return {key: read_layer_native(catalog.layer(lid)).to_crs(M) for key, lid in LAYERS.items()}


@pytest.fixture(scope="module")
def result(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    return compute_indicators(
        city_area=None,
        counties=frames["counties"],
        control_lines={role: frames[role] for role in ("red_line", "farmland", "urban_boundary")},
        land_use=frames["land_use"],
        land_use_field="YDYHFLDM",
        city_code="430800",
        city_name="张家界市",
        crs=CRS,
    )


def test_red_line_matches_the_plan(result: dict[str, Any]) -> None:
    city = result["city"]
    assert (city["code"], city["name"]) == ("430800", "张家界市")
    assert city["red_line"]["area_km2"] == pytest.approx(2964.15, rel=0.005)
    assert city["red_line"]["share"] == pytest.approx(0.3109, abs=0.001)
    assert 9_400 < city["area_km2"] < 9_650


def test_counties_sum_to_the_city(result: dict[str, Any]) -> None:
    counties = result["counties"]
    assert [c["code"] for c in counties] == ["430802", "430811", "430821", "430822"]
    assert [c["name"] for c in counties] == ["永定区", "武陵源区", "慈利县", "桑植县"]
    city = result["city"]
    assert sum(c["area_km2"] for c in counties) == pytest.approx(city["area_km2"], rel=1e-4)
    assert sum(c["share"] for c in counties) == pytest.approx(1.0, abs=5e-4)
    for role in ("red_line", "farmland", "urban_boundary"):
        total = sum(c[role]["area_km2"] for c in counties)
        assert total == pytest.approx(city[role]["area_km2"], rel=1e-4), role
        for county in counties:
            assert county[role]["share"] == pytest.approx(
                county[role]["area_km2"] / county["area_km2"], abs=1e-4
            )
    city_use = {e["code"]: e["area_km2"] for e in city["land_use"]}
    for code, area in city_use.items():
        total = sum(e["area_km2"] for c in counties for e in c["land_use"] if e["code"] == code)
        assert total == pytest.approx(area, rel=1e-4, abs=2e-4), code


def test_against_a_direct_computation(
    frames: dict[str, gpd.GeoDataFrame], result: dict[str, Any]
) -> None:
    counties = frames["counties"].dissolve("XZQDM")
    city = counties.union_all()
    assert result["city"]["area_km2"] == pytest.approx(city.area / 1e6, abs=1e-4)
    for role in ("red_line", "farmland", "urban_boundary"):
        line = frames[role].make_valid().union_all()
        assert result["city"][role]["area_km2"] == pytest.approx(
            line.intersection(city).area / 1e6, abs=1e-4
        )
        for county in result["counties"]:
            shape = counties.geometry.loc[county["code"]]
            assert county[role]["area_km2"] == pytest.approx(
                line.intersection(shape).area / 1e6, abs=1e-4
            ), (role, county["code"])
    # land use: an overlay of the parcels with the counties, grouped by first-level class
    parcels = frames["land_use"][["YDYHFLDM", "geometry"]]
    pieces = gpd.overlay(parcels, counties.reset_index()[["XZQDM", "geometry"]], how="intersection")
    pieces["class"] = pieces["YDYHFLDM"].str[:2]
    by_county = pieces.assign(a=pieces.area / 1e6).groupby(["XZQDM", "class"])["a"].sum()
    for county in result["counties"]:
        got = {e["code"]: e["area_km2"] for e in county["land_use"]}
        want = by_county.get(county["code"], None)
        want_dict = {} if want is None else {k: v for k, v in want.items() if v > 0}
        assert set(got) == set(want_dict)
        for code, area in want_dict.items():
            assert got[code] == pytest.approx(area, abs=2e-4)
        if got:
            assert sum(e["share"] for e in county["land_use"]) == pytest.approx(1.0, abs=1e-3)
    names = {e["code"]: e["name"] for e in result["city"]["land_use"]}
    assert names["07"] == "居住用地" and names["01"] == "耕地"


def _square(x: float, y: float, size: float) -> shapely.Geometry:
    return shapely.box(x, y, x + size, y + size)


def _frame(geoms: list[shapely.Geometry], **columns: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=M)


def test_overlaps_once_clipped_to_units_and_invalid_repaired() -> None:
    # two 10 km counties side by side; the city is their union (200 km²)
    counties = _frame(
        [_square(500_000, 3_200_000, 10_000), _square(510_000, 3_200_000, 10_000)],
        XZQDM=["430802", "430811"],
        XZQMC=["永定区", "武陵源区"],
    )
    red = _frame(
        [
            shapely.box(505_000, 3_200_000, 515_000, 3_201_000),  # 10 km², 5 in each county
            shapely.box(505_000, 3_200_000, 507_000, 3_201_000),  # inside the first: counted once
            shapely.box(530_000, 3_200_000, 531_000, 3_201_000),  # outside the city: not counted
        ]
    )
    bowtie = shapely.Polygon(
        [(501_000, 3_205_000), (503_000, 3_207_000), (503_000, 3_205_000), (501_000, 3_207_000)]
    )
    farmland = _frame([bowtie])  # invalid: two 1 km² triangles once repaired
    land_use = _frame(
        [
            shapely.box(508_000, 3_208_000, 512_000, 3_209_000),  # 4 km² across the border
            _square(501_000, 3_201_000, 1_000),
            _square(511_000, 3_201_000, 1_000),
            _square(502_000, 3_201_000, 1_000),
        ],
        YDYHFLDM=["0701", "0101", "0702", None],
    )
    result = compute_indicators(
        city_area=None,
        counties=counties,
        control_lines={"red_line": red, "farmland": farmland},
        land_use=land_use,
        land_use_field="YDYHFLDM",
        crs=CRS,
    )
    city = result["city"]
    assert city["area_km2"] == 200.0
    assert city["red_line"] == {"area_km2": 10.0, "share": 0.05}
    assert city["farmland"] == {"area_km2": 2.0, "share": 0.01}
    assert "urban_boundary" not in city
    first, second = result["counties"]
    assert first["red_line"] == {"area_km2": 5.0, "share": 0.05}
    assert second["farmland"] == {"area_km2": 0.0, "share": 0.0}
    assert first["share"] == 0.5
    assert city["land_use"] == [
        {"code": "", "name": None, "area_km2": 1.0, "share": 0.1429},
        {"code": "01", "name": "耕地", "area_km2": 1.0, "share": 0.1429},
        {"code": "07", "name": "居住用地", "area_km2": 5.0, "share": 0.7143},
    ]
    assert {e["code"]: e["area_km2"] for e in second["land_use"]} == {"07": 3.0}


def test_city_area_given_and_no_counties() -> None:
    city = _frame([_square(500_000, 3_200_000, 10_000)])
    red = _frame([_square(500_000, 3_200_000, 5_000)])
    result = compute_indicators(
        city_area=city,
        counties=None,
        control_lines={"red_line": red},
        land_use=None,
        land_use_field=None,
        crs=CRS,
    )
    assert result == {
        "city": {
            "code": None,
            "name": None,
            "area_km2": 100.0,
            "red_line": {"area_km2": 25.0, "share": 0.25},
            "land_use": [],
        },
        "counties": [],
    }
    bare = compute_indicators(
        city_area=None,
        counties=None,
        control_lines={"red_line": red},
        land_use=None,
        land_use_field=None,
        crs=CRS,
    )
    assert bare["city"]["red_line"] == {"area_km2": 25.0, "share": None}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"control_lines": {"red_line": _frame([_square(0, 0, 1)]).to_crs(4326)}}, "EPSG:4546"),
        ({"control_lines": {"blue_line": _frame([_square(0, 0, 1)])}}, "unknown"),
        ({"counties": _frame([_square(0, 0, 1)], XZQDM=["1"])}, "XZQMC"),
        ({"land_use": _frame([_square(0, 0, 1)]), "land_use_field": "YDYHFLDM"}, "code field"),
    ],
)
def test_refuses_bad_input(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "city_area": None,
        "counties": None,
        "control_lines": {},
        "land_use": None,
        "land_use_field": None,
    }
    with pytest.raises(BuildError, match=message):
        compute_indicators(**(arguments | kwargs), crs=CRS)


def test_indicators_table_in_an_assembled_geopackage(
    result: dict[str, Any], tmp_path: Path
) -> None:
    write_layer(tmp_path / "ydyh.gpkg", [squares(range(1, 50))])
    gpkg = tmp_path / "internal.gpkg"
    assemble(gpkg, [("ydyh", tmp_path / "ydyh.gpkg")])
    write_indicators_table(gpkg, result)
    write_indicators_table(gpkg, result)  # written again: replaced, not doubled
    table = pyogrio.read_dataframe(gpkg, layer="plan_areas")
    assert list(table.columns) == list(INDICATOR_COLUMNS)
    rows = indicator_rows(result)
    assert len(table) == len(rows)
    red = table[(table["scope"] == "city") & (table["indicator"] == "red_line")].iloc[0]
    assert red["code"] == "430800" and red["name"] == "张家界市"
    assert red["area_km2"] == result["city"]["red_line"]["area_km2"]
    assert red["share"] == result["city"]["red_line"]["share"]
    county = table[(table["code"] == "430811") & (table["indicator"] == "land_use:07")]
    assert len(county) == (
        1 if any(e["code"] == "07" for e in result["counties"][1]["land_use"]) else 0
    )
    area = table[(table["scope"] == "county") & (table["indicator"] == "area")]
    assert area["name"].tolist() == ["永定区", "武陵源区", "慈利县", "桑植县"]
    assert set(table["scope"]) == {"city", "county"}
    conn = sqlite3.connect(gpkg)
    try:
        kinds = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    assert kinds == {"ydyh": "features", "plan_areas": "attributes"}
    assert gpkg_has_rtree(gpkg, "ydyh")
    assert pyogrio.read_info(gpkg, layer="ydyh")["features"] == 49


def test_areas_in_the_city_crs() -> None:
    """Frames in the city's working CRS (here EPSG:4547) are measured there; a frame in another
    CRS is refused, naming the city's."""
    square = _frame([_square(500_000, 3_200_000, 5_000)])  # 25 km² in EPSG:4546
    red = square.to_crs("EPSG:4547")
    rest: dict[str, Any] = {"city_area": None, "counties": None, "land_use": None}
    rest |= {"land_use_field": None, "crs": "EPSG:4547"}
    result = compute_indicators(control_lines={"red_line": red}, **rest)
    assert result["city"]["red_line"]["area_km2"] == round(float(red.area.sum()) / 1e6, 4)
    assert result["city"]["red_line"]["area_km2"] > 25.0 + 0.05
    with pytest.raises(BuildError, match="EPSG:4547"):
        compute_indicators(control_lines={"red_line": square}, **rest)
