"""The sample city: the plan's figures, the rules its layers keep, and the formats it ships in."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from publish.catalog import load_catalog
from publish.sample.geography import COUNTIES
from publish.standards import is_valid_code

pytestmark = pytest.mark.slow


def read(sample: Path, layer_id: str, **kwargs: object) -> gpd.GeoDataFrame:
    spec = load_catalog(sample / "layers.yml").layer(layer_id)
    frame = gpd.read_file(spec.source, layer=spec.layer, encoding=spec.encoding, **kwargs)
    return frame.to_crs("EPSG:4546")


def test_catalog_is_valid_and_describes_every_format(sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    ids = [spec.id for spec in catalog.layers]
    assert len(ids) == len(set(ids)) >= 12
    suffixes = {spec.source.suffix for spec in catalog.layers}
    assert {".gpkg", ".shp", ".geojson"} <= suffixes
    assert any(spec.access == "internal" for spec in catalog.layers)
    assert any(spec.crs == "GCJ-02" for spec in catalog.layers)
    for role in ("red_line", "farmland", "urban_boundary", "planning_zone", "land_use",
                 "current_use", "admin"):  # fmt: skip
        assert catalog.by_role(role), role
    shp_without_cpg = [
        s
        for s in catalog.layers
        if s.source.suffix == ".shp" and not s.source.with_suffix(".cpg").exists()
    ]
    assert shp_without_cpg and all(s.encoding == "GBK" for s in shp_without_cpg)
    for spec in catalog.layers:
        assert spec.source.exists(), spec.source


def test_red_line_matches_the_plan(sample_dir: Path) -> None:
    red = read(sample_dir, "stbhhx")
    city = read(sample_dir, "xzq_xian")
    red_km2 = red.area.sum() / 1e6
    city_km2 = city.area.sum() / 1e6
    assert red_km2 == pytest.approx(2964.15, rel=0.005)
    assert 100 * red_km2 / city_km2 == pytest.approx(31.09, abs=0.1)
    assert 9_400 < city_km2 < 9_600
    assert len(red) >= 30 and red["HXMC"].str.endswith("生态保护红线").all()
    # mostly in the north-west mountains: more red line north of the city centre than south
    centre_y = city.union_all().centroid.y
    north = red[red.geometry.centroid.y > centre_y].area.sum()
    assert north > 0.6 * red.area.sum()


def test_three_control_lines_never_overlap(sample_dir: Path) -> None:
    layers = {lid: read(sample_dir, lid).union_all() for lid in ("stbhhx", "yjjbnt", "czkfbj")}
    for (a, ga), (b, gb) in combinations(layers.items(), 2):
        assert ga.intersection(gb).area < 1.0, (a, b)
    farmland = read(sample_dir, "yjjbnt")
    assert len(farmland) > 2_000  # thousands of small parcels
    assert farmland.area.median() < 200_000
    urban = read(sample_dir, "czkfbj")
    assert set(urban["GHFQMC"]) == {"城镇集中建设区", "城镇弹性发展区", "特别用途区"}


def _assert_tiles(parts: gpd.GeoDataFrame, whole: shapely.Geometry, tolerance_m2: float) -> None:
    total = parts.area.sum()
    union = parts.union_all()
    assert total == pytest.approx(union.area, abs=tolerance_m2)  # no overlaps
    assert union.symmetric_difference(whole).area < tolerance_m2  # no gaps


def test_counties_and_townships_tile_the_city(sample_dir: Path) -> None:
    counties = read(sample_dir, "xzq_xian")
    towns = read(sample_dir, "xzq_xiang")
    city = counties.union_all()
    assert city.geom_type == "Polygon"
    _assert_tiles(counties, city, 100.0)
    _assert_tiles(towns, city, 100.0)
    assert sorted(counties["XZQDM"]) == sorted(c.code for c in COUNTIES)
    for spec in COUNTIES:
        row = counties[counties["XZQDM"] == spec.code].iloc[0]
        assert row["XZQMC"] == spec.name
        assert row.geometry.area / 1e6 == pytest.approx(spec.area_km2, rel=0.15)
        seat = gpd.GeoSeries(gpd.points_from_xy([spec.seat[0]], [spec.seat[1]]), crs=4326)
        assert row.geometry.contains(seat.to_crs(4546).iloc[0])
    assert 65 <= len(towns) <= 75
    assert towns["XZQDM"].str.match(r"^4308\d{5}$").all()
    assert towns["XZQMC"].str.contains("街道|镇|乡").all()
    # natural boundaries: township outlines have many vertices, not a handful of straight edges
    assert shapely.get_num_coordinates(towns.geometry.values).mean() > 100


def test_planning_zones_cover_the_city(sample_dir: Path) -> None:
    zones = read(sample_dir, "ghfq")
    city = read(sample_dir, "xzq_xian").union_all()
    _assert_tiles(zones, city, 5_000.0)  # 5,000 m² over 9,534 km²: float noise of the overlay
    assert {"生态保护区", "农田保护区", "城镇集中建设区", "一般农业区"} <= set(zones["GHFQMC"])


def test_land_use_codes_areas_and_identifiers(sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    for spec in catalog.layers:
        frame = read(sample_dir, spec.id)
        assert frame["BSM"].is_unique, spec.id
        assert frame.geometry.is_valid.all(), spec.id
        assert not set(spec.fields) - set(frame.columns), spec.id
        if spec.code_field:
            codes = frame[spec.code_field]
            if spec.role in ("land_use", "current_use"):
                assert codes.map(is_valid_code).all(), spec.id
        if "MJ" in frame.columns and spec.geometry == "polygon" and spec.crs != "GCJ-02":
            assert np.allclose(frame["MJ"], frame.area, rtol=1e-3), spec.id
        if "XZQDM" in frame.columns:
            assert frame["XZQDM"].astype(str).str.startswith("4308").all(), spec.id


def test_villages_rivers_roads_and_protected_areas(sample_dir: Path) -> None:
    villages = read(sample_dir, "cun")
    assert len(villages) == 866
    assert villages["CJMC"].is_unique and villages["CJMC"].str.contains("村|社区").all()
    rivers = read(sample_dir, "hl")
    assert {"澧水", "溇水"} <= set(rivers["HLMC"])
    assert (rivers.geometry.geom_type == "LineString").all()
    assert len(read(sample_dir, "dl")) > 10
    protected = read(sample_dir, "zrbhd")
    core = protected[protected["GNFQ"] == "核心区"]
    assert core.area.sum() / 1e6 == pytest.approx(264, rel=0.005)


def test_gbk_shapefile_reads_right_only_with_its_catalog_encoding(sample_dir: Path) -> None:
    spec = load_catalog(sample_dir / "layers.yml").layer("yjjbnt")
    assert not spec.source.with_suffix(".cpg").exists()
    right = gpd.read_file(spec.source, encoding=spec.encoding, max_features=50)
    assert right["ZLDWMC"].str.contains("镇|乡|街道").all()
    assert set(right["DLMC"]) <= {"水田", "水浇地", "旱地"}
    wrong = gpd.read_file(spec.source, max_features=50)
    assert not wrong["DLMC"].isin(["水田", "水浇地", "旱地"]).any()


def test_internal_layer_and_gcj02_source(sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    spec = catalog.layer("spxm")
    assert spec.access == "internal" and spec.crs == "GCJ-02"
    assert "LXDH" not in spec.fields  # the phone numbers stay in the build
    raw = gpd.read_file(spec.source)
    assert "LXDH" in raw.columns


def test_same_seed_same_sample(sample_dir: Path, tmp_path: Path) -> None:
    from publish.sample.generate import generate

    generate(tmp_path, parcels=2_000, seed=7)
    for name in ("layers.yml", "cun.geojson", "hl.geojson", "spxm_gcj02.geojson"):
        assert (tmp_path / name).read_bytes() == (sample_dir / name).read_bytes(), name


def test_defects_are_exactly_the_listed_ones(defective_sample_dir: Path, sample_dir: Path) -> None:
    listed = json.loads((defective_sample_dir / "defects.json").read_text(encoding="utf-8"))
    assert {d["kind"] for d in listed} == {
        "control_line_overlap", "invalid_geometry", "unknown_code", "area_mismatch",
        "duplicate_bsm",
    }  # fmt: skip
    found = _find_defects(defective_sample_dir)
    expected = {(d["kind"], d["layer"], d["bsm"]) for d in listed}
    assert found == expected
    assert _find_defects(sample_dir) == set()


def _find_defects(sample: Path) -> set[tuple[str, str, int]]:
    """A direct, independent look for each kind of defect (the build's review does it for real)."""
    catalog = load_catalog(sample / "layers.yml")
    found: set[tuple[str, str, int]] = set()
    frames = {spec.id: read(sample, spec.id) for spec in catalog.layers if spec.id != "dltb"}
    for spec in catalog.layers:
        if spec.id not in frames:
            continue
        frame = frames[spec.id]
        for bsm in frame.loc[~frame.geometry.is_valid, "BSM"]:
            found.add(("invalid_geometry", spec.id, int(bsm)))
        for bsm in frame.loc[frame["BSM"].duplicated(), "BSM"]:
            found.add(("duplicate_bsm", spec.id, int(bsm)))
        if spec.role == "land_use":
            for bsm in frame.loc[~frame[spec.code_field].map(is_valid_code), "BSM"]:
                found.add(("unknown_code", spec.id, int(bsm)))
        if spec.geometry == "polygon" and "MJ" in frame and spec.crs != "GCJ-02":
            valid = frame.geometry.is_valid
            off = valid & ~np.isclose(frame["MJ"], frame.area, rtol=1e-3)
            for bsm in frame.loc[off, "BSM"]:
                found.add(("area_mismatch", spec.id, int(bsm)))
    red = frames["stbhhx"].union_all()
    farms = frames["yjjbnt"]
    farms = farms[farms.geometry.is_valid]
    for bsm in farms.loc[farms.intersection(red).area > 1.0, "BSM"]:
        found.add(("control_line_overlap", "yjjbnt", int(bsm)))
    return found
