"""The findings for the reviewer's own tools: findings.xlsx (one row per finding, the format a
reviewer annotates: a blank "审查意见 Reviewer's note" column, frozen header, filters; a second
sheet with the counts) and findings.gpkg (one point per finding at its lonlat in EPSG:4326, an
empty geometry where a finding has no location; and, in `finding_features`, the polygon or line
of each finding's feature as the build read it, when its feature table holds it).

Both are written for passed and refused builds alike. No cell names a folder of the build
machine: every text goes through ReportInputs.scrub.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publish.checks.findings import KIND_ZH, Finding, Review, Severity
from publish.checks.rules import BY_KIND
from publish.review.inputs import ReportInputs
from publish.review.places import KEY, FindingPlace, read_features

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "FEATURES_TABLE",
    "FINDINGS_GPKG",
    "FINDINGS_TABLE",
    "FINDINGS_XLSX",
    "finding_rows",
    "write_exports",
]

FINDINGS_XLSX = "findings.xlsx"
FINDINGS_GPKG = "findings.gpkg"
FINDINGS_TABLE = "findings"  # the GeoPackage's point table, one row per finding
FEATURES_TABLE = "finding_features"  # the findings' features' own geometries
_WGS84 = "EPSG:4326"
_SEVERITY_ZH = {Severity.BLOCKING: "阻断", Severity.WARNING: "警告"}

# (header, width in characters, the row's value): the XLSX's columns, in order
_Column = tuple[str, int, Callable[[Finding, FindingPlace, int], Any]]
_COLUMNS: tuple[_Column, ...] = (
    ("序号 No.", 7, lambda f, p, i: i),
    ("严重程度", 9, lambda f, p, i: _SEVERITY_ZH[f.severity]),
    ("Severity", 10, lambda f, p, i: f.severity.value),
    ("类型", 16, lambda f, p, i: KIND_ZH.get(f.kind, f.kind)),
    ("Kind", 22, lambda f, p, i: f.kind),
    ("图层 Layer", 14, lambda f, p, i: f.layer),
    ("图层名称 Layer title", 28, lambda f, p, i: f"{p.layer_title_zh} {p.layer_title_en}"),
    ("要素 Feature", 16, lambda f, p, i: f.feature),
    ("相关要素 Other feature", 18, lambda f, p, i: _other(f)),
    ("名称 Name", 18, lambda f, p, i: p.name),
    ("字段 Field", 10, lambda f, p, i: f.field),
    ("值 Value", 14, lambda f, p, i: f.value),
    ("面积 Area (m²)", 14, lambda f, p, i: f.area_m2),
    ("经度 Lon", 12, lambda f, p, i: f.lonlat[0] if f.lonlat is not None else None),
    ("纬度 Lat", 12, lambda f, p, i: f.lonlat[1] if f.lonlat is not None else None),
    ("说明", 48, lambda f, p, i: f.message_zh),
    ("Message", 60, lambda f, p, i: f.message),
    ("查看 Viewer link", 30, lambda f, p, i: p.link),
    ("审查意见 Reviewer's note", 40, lambda f, p, i: None),
)
_TEXT_WRAPPED = frozenset({"说明", "Message", "审查意见 Reviewer's note"})
_NUMBER_FORMATS = {"面积 Area (m²)": "#,##0.0", "经度 Lon": "0.000000", "纬度 Lat": "0.000000"}


def write_exports(
    review: Review, places: Sequence[FindingPlace], inputs: ReportInputs | None, out_dir: Path
) -> dict[str, str]:
    """Write findings.xlsx and findings.gpkg into out_dir; return {format: file name}."""
    scrub = inputs.scrub if inputs is not None else _same
    findings = [_scrubbed(f, scrub) for f in review.findings]
    places = [_scrubbed_place(p, scrub) for p in places]
    out_dir = Path(out_dir)
    _write_xlsx(review, findings, places, out_dir / FINDINGS_XLSX)
    _write_gpkg(findings, places, inputs, out_dir / FINDINGS_GPKG)
    return {"xlsx": FINDINGS_XLSX, "gpkg": FINDINGS_GPKG}


def finding_rows(findings: Sequence[Finding], places: Sequence[FindingPlace]) -> list[list[Any]]:
    """The XLSX's data rows (its columns' values), one per finding, numbered from 1."""
    return [
        [value(f, p, i) for _, _, value in _COLUMNS]
        for i, (f, p) in enumerate(zip(findings, places, strict=True), start=1)
    ]


def _same(text: str) -> str:
    return text


def _other(f: Finding) -> str | None:
    if f.other_feature is None:
        return None
    return f"{f.other_layer}:{f.other_feature}" if f.other_layer else f.other_feature


def _scrubbed(f: Finding, scrub: Callable[[str], str]) -> Finding:
    def text(value: str | None) -> str | None:
        return scrub(value) if value is not None else None

    return Finding(
        kind=f.kind,
        severity=f.severity,
        layer=f.layer,
        message=scrub(f.message),
        message_zh=scrub(f.message_zh),
        feature=text(f.feature),
        other_layer=f.other_layer,
        other_feature=text(f.other_feature),
        lonlat=f.lonlat,
        area_m2=f.area_m2,
        field=f.field,
        value=text(f.value),
        omitted=f.omitted,
    )


def _scrubbed_place(p: FindingPlace, scrub: Callable[[str], str]) -> FindingPlace:
    name = scrub(p.name) if p.name is not None else None
    return FindingPlace(p.layer_title_zh, p.layer_title_en, name, p.link, p.image)


# -- XLSX ------------------------------------------------------------------------------------


def _write_xlsx(
    review: Review, findings: Sequence[Finding], places: Sequence[FindingPlace], path: Path
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = "问题清单 Findings"
    sheet.append([header for header, _, _ in _COLUMNS])
    for row in finding_rows(findings, places):
        sheet.append(row)
    bold, grey = Font(bold=True), PatternFill("solid", fgColor="F2F2F5")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, grey
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, (header, width, _) in enumerate(_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        wrap = header in _TEXT_WRAPPED
        number = _NUMBER_FORMATS.get(header)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.alignment = Alignment(wrap_text=wrap, vertical="top")
            if number is not None:
                cell.number_format = number
    red = Font(color="A01C14", bold=True)
    for (cell,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        if cell.value == _SEVERITY_ZH[Severity.BLOCKING]:
            cell.font = red
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(_COLUMNS))}{max(len(findings), 1) + 1}"
    _summary_sheet(book.create_sheet("汇总 Summary"), review, bold)
    book.save(path)


def _summary_sheet(sheet: Any, review: Review, bold: Any) -> None:
    summary = review.summary()
    totals = summary["by_severity"]
    sheet.append(["审查结果 Outcome", "通过 Passed" if review.ok else "未通过 Blocked"])
    sheet.append([])
    sheet.append(["图层 Layer", "阻断 Blocking", "警告 Warning", "合计 Total"])
    header_rows = [sheet.max_row]
    for layer, counts in summary["by_layer"].items():
        blocking, warning = counts["blocking"], counts["warning"]
        sheet.append([layer, blocking, warning, blocking + warning])
    sheet.append(["合计 Total", totals["blocking"], totals["warning"], summary["total"]])
    sheet.append([])
    sheet.append(["类型 Kind", "说明", "Description", "数量 Count"])
    header_rows.append(sheet.max_row)
    for kind, count in summary["by_kind"].items():
        rule = BY_KIND.get(kind)
        sheet.append([kind, KIND_ZH.get(kind, kind), rule.en if rule else "", count])
    for row in header_rows:
        for cell in sheet[row]:
            cell.font = bold
    for letter, width in zip("ABCD", (26, 22, 32, 12), strict=True):
        sheet.column_dimensions[letter].width = width


# -- GeoPackage ------------------------------------------------------------------------------


def _write_gpkg(
    findings: Sequence[Finding],
    places: Sequence[FindingPlace],
    inputs: ReportInputs | None,
    path: Path,
) -> None:
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely

    path.unlink(missing_ok=True)
    located = [f.lonlat is not None for f in findings]
    lon = [f.lonlat[0] if f.lonlat is not None else 0.0 for f in findings]
    lat = [f.lonlat[1] if f.lonlat is not None else 0.0 for f in findings]
    points = shapely.points(lon, lat) if findings else []
    geometry = [point if ok else None for point, ok in zip(points, located, strict=True)]
    table = pd.DataFrame(
        {
            "finding": pd.Series(range(1, len(findings) + 1), dtype="int64"),
            "kind": pd.Series([f.kind for f in findings], dtype="object"),
            "kind_zh": pd.Series([KIND_ZH.get(f.kind, f.kind) for f in findings], dtype="object"),
            "severity": pd.Series([f.severity.value for f in findings], dtype="object"),
            "layer": pd.Series([f.layer for f in findings], dtype="object"),
            "layer_title": pd.Series([p.layer_title_zh for p in places], dtype="object"),
            "feature": pd.Series([f.feature for f in findings], dtype="object"),
            "other_feature": pd.Series([_other(f) for f in findings], dtype="object"),
            "name": pd.Series([p.name for p in places], dtype="object"),
            "field": pd.Series([f.field for f in findings], dtype="object"),
            "value": pd.Series([f.value for f in findings], dtype="object"),
            "message": pd.Series([f.message for f in findings], dtype="object"),
            "message_zh": pd.Series([f.message_zh for f in findings], dtype="object"),
            "area_m2": pd.Series([f.area_m2 for f in findings], dtype="float64"),
            "link": pd.Series([p.link for p in places], dtype="object"),
        }
    )
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, crs=_WGS84), crs=_WGS84)
    pyogrio.write_dataframe(frame, path, layer=FINDINGS_TABLE, driver="GPKG", geometry_type="Point")
    features = _finding_features(findings, inputs) if inputs is not None else None
    if features is not None and len(features):
        pyogrio.write_dataframe(
            features,
            path,
            layer=FEATURES_TABLE,
            driver="GPKG",
            append=False,
            geometry_type="Unknown",
            promote_to_multi=True,
        )


def _finding_features(findings: Sequence[Finding], inputs: ReportInputs) -> gpd.GeoDataFrame | None:
    """Each finding's feature geometry from its layer's feature table (EPSG:4326), read as the
    finding names it (publish.review.places.read_features: "#row" or the id value): a row per
    (finding, feature) — a duplicated id names every feature holding it."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    parts: list[pd.DataFrame] = []
    for layer in dict.fromkeys(f.layer for f in findings):
        result = inputs.layers.get(layer)
        if result is None or not Path(result.features_path).is_file():
            continue  # a layer whose source could not be read has no table
        numbered = [
            (n, f)
            for n, f in enumerate(findings, start=1)
            if f.layer == layer and f.feature is not None and not f.omitted
        ]
        if not numbered:
            continue
        try:
            features = read_features(
                Path(result.features_path),
                layer,
                {str(f.feature) for _, f in numbered},
                result.spec.id_field,
                None,
            )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
            continue
        wanted = pd.DataFrame(
            {
                "finding": [n for n, _ in numbered],
                "kind": [f.kind for _, f in numbered],
                "severity": [f.severity.value for _, f in numbered],
                "layer": layer,
                KEY: [f.feature for _, f in numbered],
            }
        )
        found = pd.DataFrame({KEY: features[KEY], "geometry": features.geometry.to_numpy()})
        parts.append(wanted.merge(found, on=KEY))
    if not parts:
        return None
    joined = pd.concat(parts, ignore_index=True).sort_values("finding", kind="stable")
    return gpd.GeoDataFrame(joined.reset_index(drop=True), geometry="geometry", crs=_WGS84)
