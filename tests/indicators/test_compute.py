"""The figures of the sample's model, as the build computed them, against an independent
geopandas computation (union per layer, then intersection with each county) within 0.1 %."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from publish.catalog import load_catalog
from publish.indicators.model import load_model
from publish.pipeline.build import BuildResult

COUNTIES = ("430802", "430811", "430821", "430822")
CONSTRUCTION = ("07", "08", "09", "10", "11", "12", "13", "14", "15")


@pytest.fixture(scope="module")
def internal(full_release: BuildResult) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (full_release.path / "monitoring" / "internal.json").read_text(encoding="utf-8")
    )
    return doc


def value(doc: dict[str, Any], indicator: str, scope: str, code: str) -> float:
    (row,) = [
        r
        for r in doc["results"]
        if (r["indicator"], r["scope"], r["code"]) == (indicator, scope, code)
    ]
    return float(row["value"])


@pytest.fixture(scope="module")
def layer(full_release: BuildResult, sample_dir: Path) -> Any:
    crs = load_catalog(sample_dir / "layers.yml").crs
    gpkg = full_release.path / "features" / "internal.gpkg"
    frames: dict[str, gpd.GeoDataFrame] = {}

    def read(layer_id: str) -> gpd.GeoDataFrame:
        if layer_id not in frames:
            frames[layer_id] = gpd.read_file(gpkg, layer=layer_id).to_crs(crs)
        return frames[layer_id]

    return read


@pytest.fixture(scope="module")
def counties(layer: Any) -> dict[str, shapely.Geometry]:
    frame = layer("xzq_xian").dissolve(by="XZQDM")
    return {str(code): geom for code, geom in frame.geometry.items()}


def test_the_red_line_is_the_plans_figure(internal: dict[str, Any]) -> None:
    assert value(internal, "red_line_area", "city", "430800") == pytest.approx(2964.15, rel=0.005)
    assert value(internal, "red_line_share", "city", "430800") == pytest.approx(31.09, abs=0.01)


@pytest.mark.parametrize(
    ("indicator", "layer_id", "codes", "factor"),
    [
        ("red_line_area", "stbhhx", None, 1e-6),
        ("farmland_protection", "yjjbnt", None, 1e-6),
        ("urban_boundary_area", "czkfbj", None, 1e-6),
        ("cultivated_land", "dltb", ("01",), 1e-4),
        ("forest_land", "dltb", ("03",), 1e-6),
        ("construction_land", "dltb", CONSTRUCTION, 1e-6),
        ("projects_under_review", "spxm", None, 1e-4),
    ],
)
def test_areas_against_geopandas(
    internal: dict[str, Any],
    layer: Any,
    counties: dict[str, shapely.Geometry],
    indicator: str,
    layer_id: str,
    codes: tuple[str, ...] | None,
    factor: float,
) -> None:
    frame = layer(layer_id)
    if codes:
        frame = frame[frame["DLBM"].astype(str).str.startswith(codes)]
    union = frame.geometry.make_valid().union_all()
    total = 0.0
    for code, county in counties.items():
        expected = union.intersection(county).area * factor
        assert value(internal, indicator, "county", code) == pytest.approx(expected, rel=1e-3)
        total += expected
    assert value(internal, indicator, "city", "430800") == pytest.approx(total, rel=1e-3)


def test_overlap_share_ratio_and_count(
    internal: dict[str, Any], layer: Any, counties: dict[str, shapely.Geometry], sample_dir: Path
) -> None:
    dltb = layer("dltb")
    built = dltb[dltb["DLBM"].astype(str).str.startswith(CONSTRUCTION)].geometry.union_all()
    urban = layer("czkfbj").geometry.union_all()
    forest = dltb[dltb["DLBM"].astype(str).str.startswith("03")].geometry.union_all()
    model = load_model(load_catalog(sample_dir / "layers.yml"))
    assert model is not None
    villages = layer("cun")
    for code, county in counties.items():
        inside = built.intersection(urban).intersection(county).area
        people = model.values.get("urban_population", "county", code, 2025)
        assert people
        got = value(internal, "urban_land_per_capita", "county", code)
        assert got == pytest.approx(inside / people, rel=1e-3)
        cover = 100 * forest.intersection(county).area / county.area
        assert value(internal, "forest_cover", "county", code) == pytest.approx(cover, rel=1e-3)
        count = int(villages.geometry.within(county).sum())
        assert value(internal, "villages", "county", code) == count


def test_counties_sum_to_the_city_for_additive_indicators(internal: dict[str, Any]) -> None:
    additive = [i["id"] for i in internal["indicators"] if i["additive"]]
    assert set(additive) >= {"red_line_area", "cultivated_land", "villages"}
    assert not {"red_line_share", "forest_cover", "urban_land_per_capita"} & set(additive)
    for indicator in additive:
        city = value(internal, indicator, "city", "430800")
        counties = sum(value(internal, indicator, "county", code) for code in COUNTIES)
        assert counties == pytest.approx(city, rel=1e-6, abs=1e-3), indicator


def test_townships_only_where_asked(internal: dict[str, Any]) -> None:
    townships = [s for s in internal["scopes"] if s["scope"] == "township"]
    assert len(townships) == 70
    assert {s["parent"] for s in townships} == set(COUNTIES)
    assert all(s["code"].startswith(s["parent"]) for s in townships)
    with_townships = {r["indicator"] for r in internal["results"] if r["scope"] == "township"}
    assert with_townships == {"red_line_area", "farmland_protection"}  # the model's flag
    for code in COUNTIES:
        mine = {s["code"] for s in townships if s["parent"] == code}
        total = sum(
            r["value"]
            for r in internal["results"]
            if r["indicator"] == "red_line_area" and r["code"] in mine
        )
        county = value(internal, "red_line_area", "county", code)
        assert total == pytest.approx(county, abs=1e-3)  # each rounded to 0.0001
