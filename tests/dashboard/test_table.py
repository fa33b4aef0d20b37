"""The results table of a monitoring document (publish.dashboard.table): which target a row
reads, how a `between` target is written, the CSV's BOM and the XLSX's numbers."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from publish.dashboard.table import COLUMNS, result_rows, rows_csv, rows_xlsx, status_year

DOC = {
    "schema": "onemap-indicators/1",
    "year": 2026,
    "target_years": [2025, 2030, 2035],
    "indicators": [
        {
            "id": "forest_cover",
            "name": {"zh": "森林覆盖率", "en": "Forest cover"},
            "unit": "%",
            "kind": "binding",
        },
    ],
    "scopes": [{"scope": "city", "code": "430800", "name": "张家界市"}],
    "results": [
        {
            "indicator": "forest_cover",
            "scope": "city",
            "code": "430800",
            "value": 70.5,
            "targets": [
                {"year": 2025, "rule": "at_least", "target": 70.0, "band": 0.02, "status": "ok"},
                {
                    "year": 2030,
                    "rule": "between",
                    "target": [71.0, 75.0],
                    "band": 0.02,
                    "status": "warning",
                },
                {
                    "year": 2035,
                    "rule": "at_least",
                    "target": 76.0,
                    "band": 0.02,
                    "status": "breach",
                },
            ],
            "status": "warning",
            "previous": 70.75,
            "delta": -0.25,
        }
    ],
}


def test_status_year_is_the_first_target_year_at_or_after_the_data_year() -> None:
    assert status_year(2026, [2035, 2025, 2030]) == 2030
    assert status_year(2025, [2025, 2035]) == 2025
    assert status_year(2040, [2025, 2035]) == 2035  # past every target: the last
    assert status_year(2026, []) is None


def test_a_row_reads_the_status_target_or_the_year_asked_for() -> None:
    (row,) = result_rows(DOC)
    assert row["target_year"] == 2030 and row["rule"] == "between"
    assert row["target"] == "71.0–75.0" and row["status"] == "warning"
    assert (row["name"], row["name_zh"], row["unit"]) == ("张家界市", "森林覆盖率", "%")
    assert (row["value"], row["previous"], row["delta"]) == (70.5, 70.75, -0.25)
    (later,) = result_rows(DOC, 2035)
    assert (later["target_year"], later["target"], later["status"]) == (2035, 76.0, "breach")
    (none,) = result_rows(DOC, 2050)
    assert none["target_year"] is None and none["status"] is None and none["value"] == 70.5


def test_csv_and_xlsx_hold_the_rows() -> None:
    rows = result_rows(DOC, 2025)
    data = rows_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    (parsed,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert parsed["value"] == "70.5" and parsed["target"] == "70.0" and parsed["delta"] == "-0.25"
    sheet = load_workbook(io.BytesIO(rows_xlsx(rows, title="x" * 40))).active
    assert sheet.title == "x" * 31  # Excel's limit on a sheet's name
    header, values = list(sheet.iter_rows(values_only=True))
    assert header == COLUMNS
    assert dict(zip(COLUMNS, values, strict=True))["value"] == 70.5
