"""The check's areas against a direct shapely computation in EPSG:4546 on the same release."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import shapely

from publish.sitecheck.check import check_site
from publish.sitecheck.inputs import parse_site
from publish.sitecheck.store import SiteStore
from tests.sitecheck.helpers import by_code, layer_4546, overlap, to_crs

CRS = "EPSG:4546"  # the sample city's working CRS


CRSES = ("CRS84", "EPSG:4490", "EPSG:4546", "EPSG:3857")
LINES = {"red_line": "stbhhx", "farmland": "yjjbnt", "urban_boundary": "czkfbj"}


def _square(x: float, y: float, half: float) -> Any:
    return shapely.box(x - half, y - half, x + half, y + half)


@cache
def _sites(gpkg: Path, layer: str) -> dict[str, Any]:
    """Sites inside, across and outside the layer (EPSG:4546, all in the city), checked directly."""
    frame = layer_4546(gpkg, layer)
    largest = frame.geometry.iloc[int(frame.geometry.area.argmax())]
    core = largest.buffer(-60)
    inside_pt = core.point_on_surface()
    parts = shapely.get_parts(shapely.union_all(frame.geometry.values))
    outline = parts[int(shapely.area(parts).argmax())].exterior
    edge = outline.interpolate(0.3, normalized=True)
    elsewhere = layer_4546(gpkg, "czkfbj" if layer == "stbhhx" else "stbhhx").geometry
    away = elsewhere.iloc[int(elsewhere.area.argmax())].buffer(-60).point_on_surface()
    sites = {
        "inside": _square(inside_pt.x, inside_pt.y, 25),
        "across": _square(edge.x, edge.y, 150),
        "outside": _square(away.x, away.y, 150),
    }
    assert overlap(gpkg, layer, sites["inside"]) == pytest.approx(sites["inside"].area)
    assert 0 < overlap(gpkg, layer, sites["across"]) < sites["across"].area
    assert overlap(gpkg, layer, sites["outside"]) == 0
    return sites


def _report(store: SiteStore, site: Any, crs: str, **extra: Any) -> dict[str, Any]:
    data = {"geometry": to_crs(site, crs), "crs": crs, **extra}
    report = check_site(store, parse_site(data, work_crs=CRS))
    json.dumps(report)  # serialisable as it is
    return report


@pytest.mark.parametrize("crs", CRSES)
@pytest.mark.parametrize("role", list(LINES))
def test_control_line_areas_match_shapely(
    public_store: SiteStore, release: Path, role: str, crs: str
) -> None:
    gpkg = release / "features" / "public.gpkg"
    layer = LINES[role]
    for where, site in _sites(gpkg, layer).items():
        report = _report(public_store, site, crs)
        assert report["site"]["area_m2"] == pytest.approx(site.area, rel=1e-3), where
        got = report["control_lines"][role]
        expected = overlap(gpkg, layer, site)
        assert got["overlap_m2"] == pytest.approx(expected, rel=1e-3, abs=0.5), (where, crs)
        assert got["share"] == pytest.approx(expected / site.area, rel=1e-3, abs=1e-6)
        if expected > 0:
            assert {f["layer"] for f in got["features"]} == {layer}
            assert sum(f["overlap_m2"] for f in got["features"]) == pytest.approx(
                expected, rel=1e-3
            )
        else:
            assert got["features"] == []


def test_zones_and_land_use_match_shapely(public_store: SiteStore, release: Path) -> None:
    gpkg = release / "features" / "public.gpkg"
    ydyh = layer_4546(gpkg, "ydyh")
    centre = shapely.union_all(ydyh.geometry.values).centroid
    site = _square(centre.x, centre.y, 400)
    report = _report(public_store, site, "CRS84", intended_use="1001")
    for key, layer, field in (
        ("land_use", "ydyh", "YDYHFLDM"),
        ("planning_zones", "ghfq", "GHFQDM"),
        ("current_use", "dltb", "DLBM"),
    ):
        expected = by_code(gpkg, layer, field, site)
        got = {row["code"]: row["area_m2"] for row in report[key]}
        assert set(got) == set(expected), key
        for code, area in expected.items():
            assert got[code] == pytest.approx(area, rel=1e-3, abs=0.5), (key, code)
    names = {row["code"]: row["name"] for row in report["land_use"]}
    assert names and all(names.values())
    zone_names = {row["name"] for row in report["planning_zones"]}
    assert all(zone_names)


def test_verdicts(public_store: SiteStore, release: Path) -> None:
    gpkg = release / "features" / "public.gpkg"
    red = _sites(gpkg, "stbhhx")["inside"]
    report = _report(public_store, red, "CRS84")
    assert report["verdict"] == "prohibited"
    assert report["reasons"][0]["code"] == "red_line_overlap"
    assert "生态保护红线" in report["reasons"][0]["zh"]
    assert "red line" in report["reasons"][0]["en"]
    farm = _sites(gpkg, "yjjbnt")["inside"]
    assert _report(public_store, farm, "CRS84")["verdict"] == "prohibited"

    # Inside the urban boundary and on one planned class: conforming for that class only.
    ydyh = layer_4546(gpkg, "ydyh")
    urban = shapely.union_all(layer_4546(gpkg, "czkfbj").geometry.values)
    block = next(
        g.buffer(-30)
        for g in ydyh.geometry.values
        if urban.contains(g) and g.buffer(-30).area > 2_000
    )
    pt = block.point_on_surface()
    site = _square(pt.x, pt.y, 10)
    code = by_code(gpkg, "ydyh", "YDYHFLDM", site)
    (planned,) = code
    ok = _report(public_store, site, "EPSG:4546", intended_use=planned)
    assert ok["verdict"] == "conforming", ok["reasons"]
    other = "1001" if not planned.startswith("10") else "0701"
    bad = _report(public_store, site, "EPSG:4546", intended_use=other)
    assert bad["verdict"] == "review"
    assert [r["code"] for r in bad["reasons"]] == ["land_use_mismatch"]


def test_surroundings(public_store: SiteStore, release: Path) -> None:
    gpkg = release / "features" / "public.gpkg"
    cun = layer_4546(gpkg, "cun")
    village = shapely.get_parts(cun.geometry.iloc[0])[0]
    site = _square(village.x + 400, village.y, 50)
    report = _report(public_store, site, "EPSG:4546", surroundings_m=1000)
    villages = report["surroundings"]["villages"]
    assert villages and villages == sorted(villages, key=lambda v: v["distance_m"])
    expected = sorted(float(d) for d in cun.geometry.distance(site) if d <= 1000)[:5]
    assert [v["distance_m"] for v in villages] == pytest.approx(expected, abs=0.01)
    assert villages[0]["distance_m"] == pytest.approx(350, abs=0.01)
    assert villages[0]["name"]
    assert set(report["surroundings"]) >= {
        "radius_m",
        "villages",
        "roads",
        "rivers",
        "protected_areas",
        "urban_boundary",
    }


def test_outside_the_city(public_store: SiteStore) -> None:
    report = check_site(
        public_store,
        parse_site(
            {"geometry": {"type": "Point", "coordinates": [100.0, 29.0]}, "buffer_m": 100},
            work_crs=CRS,
        ),
    )
    assert report["outside_plan_area"] is True
    assert report["verdict"] == "review"
    assert report["reasons"][0]["code"] == "outside_plan_area"
    assert all(line["overlap_m2"] == 0 for line in report["control_lines"].values())


def test_inside_the_city_is_in_the_plan_area(public_store: SiteStore, release: Path) -> None:
    site = _sites(release / "features" / "public.gpkg", "stbhhx")["inside"]
    report = _report(public_store, site, "CRS84")
    assert report["outside_plan_area"] is False
    assert report["plan_area_share"] == pytest.approx(1.0)


def test_public_store_never_sees_internal_layer(
    public_store: SiteStore, internal_store: SiteStore, release: Path
) -> None:
    spxm = layer_4546(release / "features" / "internal.gpkg", "spxm")
    project = spxm.geometry.iloc[0]
    pt = project.point_on_surface()
    site = _square(pt.x, pt.y, 30)
    public = _report(public_store, site, "EPSG:4546")
    internal = _report(internal_store, site, "EPSG:4546")
    assert "spxm" not in json.dumps(public)
    assert "spxm" not in [s.id for s in public_store.layers]
    hits = [f for f in internal["other_overlaps"] if f["layer"] == "spxm"]
    assert hits and hits[0]["fid"] == int(spxm.index[0])
    assert hits[0]["overlap_m2"] == pytest.approx(
        shapely.intersection(site, project).area, rel=1e-3
    )


def test_repaired_bow_tie(public_store: SiteStore, release: Path) -> None:
    gpkg = release / "features" / "public.gpkg"
    site = _sites(gpkg, "yjjbnt")["across"]
    x0, y0, x1, y1 = site.bounds
    bow = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    report = _report(public_store, bow, "CRS84")
    assert report["site"]["repaired"] is True
    fixed = shapely.make_valid(bow)
    assert report["site"]["area_m2"] == pytest.approx(fixed.area, rel=1e-3)
    assert report["control_lines"]["farmland"]["overlap_m2"] == pytest.approx(
        overlap(gpkg, "yjjbnt", fixed), rel=1e-3, abs=0.5
    )


@pytest.mark.parametrize("role", list(LINES))
def test_resident_layers_and_rtree_reads_give_the_same_report(
    public_store: SiteStore, release: Path, role: str
) -> None:
    """Layers held in memory (prepared, STRtree) and layers read per request from the R-tree
    answer the same: `resident_features=0` forces every layer through the GeoPackage."""
    from publish.sitecheck.store import open_site_store

    by_rtree = open_site_store(release / "features" / "public.gpkg", release / "catalog.yml")
    by_rtree.resident_features = 0
    for site in _sites(release / "features" / "public.gpkg", LINES[role]).values():
        around = {"surroundings_m": 800}
        resident = _report(public_store, site, "EPSG:4546", **around)
        read = _report(by_rtree, site, "EPSG:4546", **around)
        assert resident == read
