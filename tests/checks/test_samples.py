"""The review on the generated sample city: clean, and with the five known defects."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from publish.catalog import CONTROL_LINE_ROLES, load_catalog
from publish.checks.cross import check_control_lines, check_zone_coverage
from publish.checks.findings import Finding, Review, Severity
from publish.checks.layer import LayerChecker
from publish.domain import DEFAULT_CRS
from publish.review.report import read_review, write_report
from publish.sources import iter_batches, read_layer
from tests.checks.helpers import check_html_lists_review

CRS = "EPSG:4546"  # the sample city's working CRS


SPLIT_LAYER = "yjjbnt"  # read in two batches, as the build streams big layers
ADMIN_LAYER = "xzq_xian"  # the county layer: the area the planning zones must cover

# defects.json names kinds after the problem; the review's kind for a duplicated BSM
KIND_OF_DEFECT = {"duplicate_bsm": "duplicate_id"}


@dataclass
class SampleReview:
    layer_findings: list[Finding]
    control_findings: list[Finding]
    zone_findings: list[Finding]
    published: dict[str, gpd.GeoDataFrame]
    checkers: dict[str, LayerChecker]
    batches: dict[str, int] = field(default_factory=dict)

    @property
    def review(self) -> Review:
        return Review(self.layer_findings + self.control_findings + self.zone_findings)


def review_sample(sample: Path) -> SampleReview:
    catalog = load_catalog(sample / "layers.yml")
    layer_findings: list[Finding] = []
    published: dict[str, gpd.GeoDataFrame] = {}
    checkers: dict[str, LayerChecker] = {}
    batches: dict[str, int] = {}
    for spec in catalog.layers:
        checker = LayerChecker(spec, crs=CRS)
        if spec.id == SPLIT_LAYER:
            count = pyogrio.read_info(spec.source)["features"]
            frames = list(iter_batches(spec, batch_size=math.ceil(count / 2)))
        else:
            frames = [read_layer(spec)]
        batches[spec.id] = len(frames)
        published[spec.id] = pd.concat([checker.check_batch(frame) for frame in frames])
        layer_findings.extend(checker.finish())
        checkers[spec.id] = checker
    lines = [spec for spec in catalog.layers if spec.role in CONTROL_LINE_ROLES]
    in_metres = {spec.id: published[spec.id].to_crs(DEFAULT_CRS) for spec in lines}
    zones = catalog.by_role("planning_zone")[0]
    zone_findings = check_zone_coverage(
        published[zones.id].to_crs(DEFAULT_CRS),
        published[ADMIN_LAYER].to_crs(DEFAULT_CRS),
        layer=zones.id,
        id_field=zones.id_field,
        crs=CRS,
    )
    return SampleReview(
        layer_findings,
        check_control_lines(in_metres, lines, crs=CRS),
        zone_findings,
        published,
        checkers,
        batches,
    )


@pytest.fixture(scope="module")
def clean(sample_dir: Path) -> SampleReview:
    return review_sample(sample_dir)


@pytest.fixture(scope="module")
def defective(defective_sample_dir: Path) -> SampleReview:
    return review_sample(defective_sample_dir)


def test_clean_sample_layers_and_control_lines_pass(clean: SampleReview) -> None:
    assert clean.batches[SPLIT_LAYER] == 2
    assert clean.layer_findings == []
    assert clean.control_findings == []
    for layer_id, checker in clean.checkers.items():
        assert checker.features == len(clean.published[layer_id]) > 0
        assert checker.bounds is not None
    # the counties are the city: about 9,534 km² (DOMAIN.md)
    assert clean.checkers[ADMIN_LAYER].area_m2 / 1e6 == pytest.approx(9_534, rel=0.01)


def test_clean_sample_planning_zones_cover_the_city(clean: SampleReview) -> None:
    assert [f for f in clean.zone_findings if f.severity is Severity.BLOCKING] == []


def _matches(finding: Finding, defect: dict) -> bool:
    return (
        finding.kind == KIND_OF_DEFECT.get(defect["kind"], defect["kind"])
        and finding.layer == defect["layer"]
        and finding.feature == str(defect["bsm"])
        and all(
            getattr(finding, key) == defect[key]
            for key in ("other_layer", "field", "value")
            if key in defect
        )
    )


def test_defective_sample_every_defect_found(
    defective: SampleReview, defective_sample_dir: Path
) -> None:
    defects = json.loads((defective_sample_dir / "defects.json").read_text(encoding="utf-8"))
    assert len(defects) == 5
    review = defective.review
    for defect in defects:
        found = [f for f in review.findings if _matches(f, defect)]
        assert found, f"no finding for {defect}"
        expected = Severity.WARNING if defect["kind"] == "invalid_geometry" else Severity.BLOCKING
        assert all(f.severity is expected for f in found)
        if "area_m2" in defect:
            areas = [f.area_m2 for f in found]
            assert any(a == pytest.approx(defect["area_m2"], rel=0.01) for a in areas), areas
    assert not review.ok


def test_defective_sample_publishes_every_feature_repaired(
    defective: SampleReview, defective_sample_dir: Path
) -> None:
    defects = json.loads((defective_sample_dir / "defects.json").read_text(encoding="utf-8"))
    bowtie = next(d for d in defects if d["kind"] == "invalid_geometry")
    farmland = defective.published[bowtie["layer"]]
    source = load_catalog(defective_sample_dir / "layers.yml").layer(bowtie["layer"])
    assert len(farmland) == pyogrio.read_info(source.source)["features"]
    repaired = farmland[farmland["BSM"] == bowtie["bsm"]]
    assert len(repaired) == 1
    assert repaired.geometry.iloc[0].is_valid
    assert repaired["area_m2"].iloc[0] > 0
    assert farmland.geometry.is_valid.all()


def test_defective_sample_report_round_trip(defective: SampleReview, tmp_path: Path) -> None:
    review = defective.review
    files = write_report(
        review,
        tmp_path,
        title="成果审查报告（样例，含缺陷）",
        context={"catalog": "layers.yml", "layers": sorted(defective.published)},
    )
    json_path, html_path = files.json, files.html
    assert read_review(json_path).findings == review.findings
    check_html_lists_review(html_path, review)
