"""findings.xlsx and findings.gpkg as a reviewer opens them: one row per finding of review.json
(its kind, layer, feature and messages), points at the findings' lonlat, the features' own
polygons beside them, no folder of the build machine in any cell — for the defective sample's
refused build and the clean sample's release."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from publish.review.exports import FEATURES_TABLE, FINDINGS_GPKG, FINDINGS_TABLE, FINDINGS_XLSX
from tests.review.conftest import BuiltReport

NOTE = "审查意见 Reviewer's note"


def _findings(folder: Path) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads((folder / "review.json").read_text("utf-8"))[
        "findings"
    ]
    return findings


def _sheet_rows(folder: Path, sheet: int = 0) -> list[dict[str, Any]]:
    book = load_workbook(folder / FINDINGS_XLSX)
    rows = list(book.worksheets[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_xlsx_has_one_row_per_finding(built_report: BuiltReport) -> None:
    folder = built_report.folder
    findings = _findings(folder)
    rows = _sheet_rows(folder)
    assert len(rows) == len(findings) > 0
    for number, (row, finding) in enumerate(zip(rows, findings, strict=True), start=1):
        assert row["序号 No."] == number
        assert row["Kind"] == finding["kind"]
        assert row["Severity"] == finding["severity"]
        assert row["严重程度"] == ("阻断" if finding["severity"] == "blocking" else "警告")
        assert row["图层 Layer"] == finding["layer"]
        assert row["要素 Feature"] == finding["feature"]
        assert row["Message"] == finding["message"]
        assert row["说明"] == finding["message_zh"]
        assert row[NOTE] is None  # left for the reviewer
        if finding["lonlat"] is not None:
            assert row["经度 Lon"] == pytest.approx(finding["lonlat"][0], abs=1e-9)
            assert row["纬度 Lat"] == pytest.approx(finding["lonlat"][1], abs=1e-9)
        if finding["area_m2"] is not None:
            assert row["面积 Area (m²)"] == pytest.approx(finding["area_m2"])


def test_the_xlsx_is_ready_to_annotate(built_report: BuiltReport) -> None:
    folder = built_report.folder
    book = load_workbook(folder / FINDINGS_XLSX)
    sheet, summary = book.worksheets
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
    assert [c.value for c in sheet[1]][-1] == NOTE
    assert sheet.column_dimensions["Q"].width >= 40  # the English message
    doc = json.loads((folder / "review.json").read_text("utf-8"))
    rows = list(summary.iter_rows(values_only=True))
    totals = next(row for row in rows if row[0] == "合计 Total")
    severity = doc["summary"]["by_severity"]
    assert totals[1:] == (severity["blocking"], severity["warning"], doc["summary"]["total"])
    kinds = {row[0]: row[3] for row in rows if row[0] in doc["summary"]["by_kind"]}
    assert kinds == doc["summary"]["by_kind"]


def test_the_gpkg_has_a_point_per_finding(built_report: BuiltReport) -> None:
    folder = built_report.folder
    findings = _findings(folder)
    frame = pyogrio.read_dataframe(folder / FINDINGS_GPKG, layer=FINDINGS_TABLE)
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == len(findings)
    for (_, row), finding in zip(frame.iterrows(), findings, strict=True):
        assert (row["kind"], row["layer"], row["severity"]) == (
            finding["kind"],
            finding["layer"],
            finding["severity"],
        )
        assert row["feature"] == finding["feature"]
        assert row["message"] == finding["message"]
        assert row["message_zh"] == finding["message_zh"]
        if finding["lonlat"] is None:
            assert row.geometry is None or row.geometry.is_empty
        else:
            assert row.geometry.x == pytest.approx(finding["lonlat"][0], abs=1e-6)
            assert row.geometry.y == pytest.approx(finding["lonlat"][1], abs=1e-6)


def test_the_refused_report_carries_the_defective_features(refused_report: Path) -> None:
    findings = _findings(refused_report)
    features = pyogrio.read_dataframe(refused_report / FINDINGS_GPKG, layer=FEATURES_TABLE)
    assert features.crs.to_epsg() == 4326
    named = {
        number
        for number, f in enumerate(findings, start=1)
        if f["feature"] and not f["omitted"] and f["kind"] != "source_error"
    }
    assert set(features["finding"]) == named
    for _, row in features.iterrows():
        finding = findings[row["finding"] - 1]
        assert (row["layer"], row["feature"]) == (finding["layer"], finding["feature"])
        assert row.geometry.geom_type in {"Polygon", "MultiPolygon"}
    # the duplicated id names both features that hold it
    (duplicate,) = [n for n in named if findings[n - 1]["kind"] == "duplicate_id"]
    assert (features["finding"] == duplicate).sum() == 2
    # each overlap's point lies on the farmland parcel it names
    for number in named:
        finding = findings[number - 1]
        if finding["kind"] == "control_line_overlap":
            (geom,) = features.loc[features["finding"] == number].geometry
            assert shapely.distance(geom, shapely.Point(finding["lonlat"])) < 1e-6


def test_no_folder_of_the_build_machine_in_the_exports(built_report: BuiltReport) -> None:
    folder, machine = built_report.folder, built_report.machine
    cells = [
        str(value)
        for sheet in load_workbook(folder / FINDINGS_XLSX).worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    gpkg = (folder / FINDINGS_GPKG).read_bytes()
    for path in machine:
        assert not [cell for cell in cells if str(path) in cell]
        assert str(path).encode() not in gpkg


def test_a_source_error_names_its_file_not_the_build_machine(
    sample_dir: Path, tmp_path: Path
) -> None:
    """A source error's message names the file by its absolute path; the exports name it
    relative to the catalog (a layer without a feature table: no finding_features)."""
    from publish.catalog import load_catalog
    from publish.checks.findings import Review, make_finding
    from publish.review.exports import write_exports
    from publish.review.inputs import ReportInputs
    from publish.review.places import place_findings

    source = sample_dir.resolve() / "yjjbnt.shp"
    review = Review(
        [
            make_finding(
                "source_error",
                "yjjbnt",
                f"layer yjjbnt: cannot open {source}: not a shapefile",
                f"图层 yjjbnt：无法读取 {source}",
                value=str(source),
            )
        ]
    )
    inputs = ReportInputs(
        catalog=load_catalog(sample_dir / "layers.yml"),
        catalog_source=sample_dir / "layers.yml",
        layers={},
        when=datetime(2026, 12, 5, tzinfo=UTC),
    )
    assert write_exports(review, place_findings(review, inputs), inputs, tmp_path) == {
        "xlsx": FINDINGS_XLSX,
        "gpkg": FINDINGS_GPKG,
    }
    (row,) = _sheet_rows(tmp_path)
    assert row["Message"] == "layer yjjbnt: cannot open yjjbnt.shp: not a shapefile"
    assert row["说明"] == "图层 yjjbnt：无法读取 yjjbnt.shp"
    assert row["值 Value"] == "yjjbnt.shp"
    assert row["图层名称 Layer title"] == "永久基本农田 Permanent basic farmland"
    assert str(sample_dir.resolve()).encode() not in (tmp_path / FINDINGS_GPKG).read_bytes()
    (point,) = pyogrio.read_dataframe(tmp_path / FINDINGS_GPKG).geometry
    assert point is None  # no location: an empty geometry, the row still there
    assert list(pyogrio.list_layers(tmp_path / FINDINGS_GPKG)[:, 0]) == [FINDINGS_TABLE]


def test_a_review_without_findings_exports_empty_tables(tmp_path: Path) -> None:
    from publish.checks.findings import Review
    from publish.review.exports import write_exports

    write_exports(Review(), [], None, tmp_path)
    assert _sheet_rows(tmp_path) == []
    assert len(pyogrio.read_dataframe(tmp_path / FINDINGS_GPKG, layer=FINDINGS_TABLE)) == 0
    totals = [r for r in _sheet_rows(tmp_path, 1) if "合计 Total" in r.values()]
    assert totals
