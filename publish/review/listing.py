"""The findings as review.html lists them: each with its severity, kind, the layer's title,
the feature (id and name), where it is (a map image and a link into the staff viewer) and the
message in Chinese and English."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from publish.checks.findings import Finding, Severity
from publish.review.places import FindingPlace

__all__ = ["findings_html"]

_SEVERITY_ZH = {Severity.BLOCKING: "阻断", Severity.WARNING: "警告"}


def findings_html(findings: Sequence[Finding], places: Sequence[FindingPlace]) -> str:
    """The findings section (escaped), blocking ones first."""
    return _findings_table(list(findings), list(places))


_COLUMNS = (
    "严重程度 Severity",
    "类型 Kind",
    "图层 Layer",
    "要素 Feature",
    "字段 Field",
    "值 Value",
    "面积 Area (m²)",
    "位置 Location (lon,lat)",
    "说明 Message",
)


def _findings_table(findings: list[Finding], places: list[FindingPlace]) -> str:
    if not findings:
        return "<p>没有发现问题。No findings.</p>"
    head = "<tr>" + "".join(f"<th>{escape(c)}</th>" for c in _COLUMNS) + "</tr>"
    order = sorted(
        range(len(findings)),
        key=lambda i: (findings[i].severity is not Severity.BLOCKING, findings[i].layer, i),
    )
    return (
        '<table id="findings" class="findings">'
        + head
        + "".join(_finding_row(findings[i], places[i]) for i in order)
        + "</table>"
    )


def _finding_row(f: Finding, place: FindingPlace) -> str:
    feature = f.feature or ""
    if f.other_feature is not None:
        other = (
            f"{f.other_layer}:{f.other_feature}" if f.other_layer != f.layer else f.other_feature
        )
        feature = f"{feature} / {other}"
    location = f"{f.lonlat[0]:.6f},{f.lonlat[1]:.6f}" if f.lonlat is not None else ""
    area = f"{f.area_m2:,.1f}" if f.area_m2 is not None else ""
    cells = [
        ("severity", f"{_SEVERITY_ZH[f.severity]} {f.severity.value}"),
        ("kind", f.kind),
        ("layer", f"{place.layer_title_zh} {f.layer}"),
        ("feature", feature),
        ("field", f.field or ""),
        ("value", f.value or ""),
        ("num area", area),
        ("location", location),
    ]
    tds = "".join(f'<td class="{cls}">{escape(text)}</td>' for cls, text in cells)
    message = (
        f'<td class="message"><div class="zh">{escape(f.message_zh)}</div>'
        f'<div class="en">{escape(f.message)}</div></td>'
    )
    return (
        f'<tr class="finding {f.severity.value}" data-kind="{escape(f.kind)}">{tds}{message}</tr>'
    )
