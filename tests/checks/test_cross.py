from __future__ import annotations

import pytest
import shapely

from publish.checks.cross import check_control_lines, check_zone_coverage, measure_control_lines
from publish.checks.findings import Severity
from tests.checks.helpers import X0, Y0, box, frame_4546, spec

CRS = "EPSG:4546"  # the sample city's working CRS


RED = spec("red", "red_line")
FARM = spec("farm", "farmland")
URBAN = spec("urban", "urban_boundary")


def _inside(finding, geom_4546: shapely.Geometry) -> bool:
    """The finding's lon/lat lies in a geometry given in EPSG:4546."""
    point = frame_4546([shapely.Point(*finding.lonlat)]).set_crs("EPSG:4326", allow_override=True)
    return bool(geom_4546.buffer(0.01).contains(point.to_crs("EPSG:4546").geometry.iloc[0]))


def test_control_line_overlap_found_with_area_and_location() -> None:
    red = frame_4546([box(0, 0, 100), box(500, 0, 100)], BSM=[11, 12])
    farm = frame_4546(
        [
            box(90, 10, 20, 30),  # 10 m × 30 m inside red 11: 300 m²
            box(100, 50, 20),  # touches red 11 along its edge only
            box(599.5, 0, 10, 1.5),  # 0.5 m × 1.5 m = 0.75 m²: below the tolerance
            box(1000, 0, 10),
        ],
        BSM=[21, 22, 23, 24],
    )
    findings = check_control_lines({"red": red, "farm": farm}, [RED, FARM], crs=CRS)
    assert len(findings) == 1
    found = findings[0]
    assert (found.kind, found.severity) == ("control_line_overlap", Severity.BLOCKING)
    assert (found.layer, found.feature, found.other_layer, found.other_feature) == (
        "farm",
        "21",
        "red",
        "11",
    )
    assert found.area_m2 == pytest.approx(300.0)
    assert _inside(found, box(90, 10, 10, 30))
    assert "300.0 m²" in found.message and "300.0 m²" in found.message_zh


def test_every_pair_of_different_roles_and_not_same_role() -> None:
    red = frame_4546([box(0, 0, 100)], BSM=[1])
    red2 = frame_4546([box(50, 0, 100)], BSM=[2])  # overlaps red: same role, not compared
    farm = frame_4546([box(80, 0, 40)], BSM=[3])
    urban = frame_4546([box(110, 0, 20)], BSM=[4])
    specs = [URBAN, FARM, RED, spec("red2", "red_line"), spec("zones", "planning_zone")]
    layers = {"red": red, "red2": red2, "farm": farm, "urban": urban}
    found = {
        (f.layer, f.feature, f.other_layer, f.other_feature, f.area_m2)
        for f in check_control_lines(layers, specs, crs=CRS)
    }
    assert found == {
        ("farm", "3", "red", "1", 800.0),  # x 80..100 × 40
        ("farm", "3", "red2", "2", 1600.0),
        ("urban", "4", "red2", "2", 400.0),
        ("urban", "4", "farm", "3", 200.0),  # x 110..120 × 20
    }


def test_control_line_limit() -> None:
    red = frame_4546([box(0, 0, 1000)], BSM=[1])
    farm = frame_4546([box(i * 20, 0, 10) for i in range(10)], BSM=list(range(10)))
    findings = check_control_lines({"red": red, "farm": farm}, [RED, FARM], limit=4, crs=CRS)
    assert len(findings) == 5
    assert [f.feature for f in findings[:4]] == ["0", "1", "2", "3"]
    assert findings[4].value == "6" and "and 6 more" in findings[4].message


def test_tolerance_is_configurable() -> None:
    red = frame_4546([box(0, 0, 100)], BSM=[1])
    farm = frame_4546([box(99, 0, 1, 50)], BSM=[2])  # 50 m²
    layers = {"red": red, "farm": farm}
    assert len(check_control_lines(layers, [RED, FARM], crs=CRS)) == 1
    assert check_control_lines(layers, [RED, FARM], tolerance_m2=60.0, crs=CRS) == []


def test_zone_coverage_gap_overlap_outside() -> None:
    admin = frame_4546([box(0, 0, 100, 50), box(0, 50, 100, 50)], BSM=[1, 2])
    zones = frame_4546(
        [
            box(0, 0, 50, 100),
            box(52, 0, 48, 100),  # a 2 m strip between the two: gap 2 × 90 (see the next)
            box(45, 90, 10, 10),  # overlaps the first (5×10) and the second (3×10)
            box(100, 0, 10, 10),  # outside the city: 100 m²
            box(0, 0, 0.5, 1.5),  # 0.75 m² overlap with the first: below the tolerance
        ],
        BSM=[101, 102, 103, 104, 105],
    )
    findings = check_zone_coverage(zones, admin, layer="ghfq", crs=CRS)
    assert all(f.severity is Severity.BLOCKING and f.layer == "ghfq" for f in findings)
    got = sorted((f.kind, f.feature, f.other_feature, f.area_m2) for f in findings)
    assert got == [
        ("zone_gap", None, None, 180.0),
        ("zone_outside", "104", None, 100.0),
        ("zone_overlap", "101", "103", 50.0),
        ("zone_overlap", "102", "103", 30.0),
    ]
    gap = next(f for f in findings if f.kind == "zone_gap")
    assert _inside(gap, box(50, 0, 2, 90))
    assert "180.0 m²" in gap.message and "180.0 m²" in gap.message_zh
    overlap = next(f for f in findings if f.other_feature == "103" and f.feature == "101")
    assert overlap.other_layer == "ghfq"
    assert _inside(overlap, box(45, 90, 5, 10))


def test_zone_coverage_clean_and_slivers_below_tolerance() -> None:
    admin = frame_4546([box(0, 0, 100)], BSM=[1])
    zones = frame_4546([box(0, 0, 50, 100), box(50.005, 0, 49.995, 100)], BSM=[1, 2])
    assert check_zone_coverage(zones, admin, layer="ghfq", crs=CRS) == []  # 0.5 m² sliver
    findings = check_zone_coverage(zones, admin, layer="ghfq", tolerance_m2=0.1, crs=CRS)
    assert [(f.kind, f.area_m2) for f in findings] == [("zone_gap", 0.5)]


def test_zone_coverage_limit_counts_the_rest() -> None:
    admin = frame_4546([box(0, 0, 1000, 10)], BSM=[1])
    zones = frame_4546([box(i * 20, 0, 18, 10) for i in range(50)], BSM=list(range(50)))
    findings = check_zone_coverage(zones, admin, layer="ghfq", limit=10, crs=CRS)
    gaps = [f for f in findings if f.kind == "zone_gap"]
    assert len(gaps) == 11
    assert gaps[-1].omitted == 40 and gaps[-1].value == "40"


def test_invalid_zones_are_repaired_before_the_overlay() -> None:
    admin = frame_4546([box(0, 0, 100)], BSM=[1])
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100), (X0, Y0)]
    )
    zones = frame_4546([bowtie], BSM=[7])
    kinds = sorted(f.kind for f in check_zone_coverage(zones, admin, layer="ghfq", crs=CRS))
    assert kinds == ["zone_gap", "zone_gap"]  # the two triangles the bow-tie leaves out


def test_areas_are_measured_in_the_given_crs() -> None:
    """The city's working CRS measures the overlaps and the pieces (here EPSG:4547, where these
    metres measure 0.28 % more than in EPSG:4546)."""
    red = frame_4546([box(0, 0, 100)], BSM=[11]).to_crs("EPSG:4326")
    farm = frame_4546([box(50, 0, 100)], BSM=[21]).to_crs("EPSG:4326")
    want = frame_4546([box(50, 0, 50, 100)]).to_crs("EPSG:4547").area.iloc[0]
    (found,) = check_control_lines({"red": red, "farm": farm}, [RED, FARM], crs="EPSG:4547")
    assert found.area_m2 == pytest.approx(want, abs=0.05)
    assert abs(found.area_m2 - 5_000.0) > 10
    assert _inside(found, box(50, 0, 50, 100))

    admin = frame_4546([box(0, 0, 100)], BSM=[1]).to_crs("EPSG:4326")
    zones = frame_4546([box(0, 0, 100, 60)], BSM=[101]).to_crs("EPSG:4326")
    (gap,) = check_zone_coverage(zones, admin, layer="ghfq", crs="EPSG:4547")
    assert gap.kind == "zone_gap"
    assert gap.area_m2 == pytest.approx(
        frame_4546([box(0, 60, 100, 40)]).to_crs("EPSG:4547").area.iloc[0], abs=0.05
    )


def test_control_line_figures_union_each_line_once() -> None:
    # two red features overlapping each other by 50 × 100: the union counts that once
    red = frame_4546([box(0, 0, 100), box(50, 0, 100)], BSM=[11, 12])
    farm = frame_4546([box(140, 0, 20, 100), box(400, 0, 10)], BSM=[21, 22])  # 10 m in red
    city = frame_4546([box(0, 0, 1000)], BSM=[1])
    figures = measure_control_lines(
        {"red": red, "farm": farm.to_crs("EPSG:4326")}, [RED, FARM, URBAN], crs=CRS, city=city
    )
    assert figures["city_m2"] == pytest.approx(1e6)
    red_line, farmland, urban = figures["lines"]
    assert (red_line["role"], red_line["layers"]) == ("red_line", ["red"])
    assert red_line["area_m2"] == pytest.approx(150 * 100, abs=0.01)
    assert red_line["share"] == pytest.approx(0.015)
    assert farmland["area_m2"] == pytest.approx(2000 + 100, abs=0.01)  # from lon/lat frames too
    assert urban == {"role": "urban_boundary", "layers": [], "area_m2": None, "share": None}
    assert figures["overlaps"] == [
        {"roles": ["red_line", "farmland"], "area_m2": pytest.approx(10 * 100, abs=0.01)}
    ]
    clean = measure_control_lines({"red": red}, [RED], crs=CRS)
    assert clean["city_m2"] is None and clean["lines"][0]["share"] is None
    assert clean["overlaps"] == []
