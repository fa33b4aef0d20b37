"""diff.html: the release diff as one self-contained page, in Chinese and English.

Rendered from the JSON document (publish.history.diff) so the page and diff.json never
disagree, in the review report's style (publish.review.page.html_page: inline CSS, no
scripts, no external resources). All text is escaped. A layer's change list shows its first
:data:`LISTED` changes; diff.json holds them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from publish.catalog import CONTROL_LINE_ROLES
from publish.review.page import context_list, html_page

__all__ = ["LISTED", "render_html"]

LISTED = 1000  # changes listed per layer on the page

_CSS = """
.status.changed { background: #fff1d6; color: #8a5a00; }
tr.added td.kind { color: #1e6b1a; font-weight: 600; }
tr.removed td.kind { color: #a01c14; font-weight: 600; }
tr.changed td.kind { color: #b35c00; font-weight: 600; }
td.num.gain { color: #1e6b1a; }
td.num.loss { color: #a01c14; }
"""

KIND_LABELS = {"added": "新增 added", "removed": "删除 removed", "changed": "变更 changed"}
STATUS_LABELS = {"kept": "保留 kept", "added": "新图层 new layer", "removed": "已移除 removed"}
LINE_LABELS = {
    "red_line": "生态保护红线 Ecological protection red line",
    "farmland": "永久基本农田 Permanent basic farmland",
    "urban_boundary": "城镇开发边界 Urban development boundary",
}


def _cell(value: Any, cls: str = "") -> str:
    text = "" if value is None else str(value)
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(text)}</td>"


def _num(value: Any, digits: int = 2, *, signed: bool = False) -> str:
    if value is None:
        return '<td class="num"></td>'
    number = float(value)
    if number == 0:
        return '<td class="num">0</td>'
    text = f"{number:+,.{digits}f}" if signed else f"{number:,.{digits}f}"
    cls = "num"
    if signed and number > 0:
        cls += " gain"
    elif signed and number < 0:
        cls += " loss"
    return f'<td class="{cls}">{escape(text)}</td>'


def _table(head: Sequence[str], rows: Iterable[str], cls: str) -> str:
    header = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    return f'<table class="{cls}">{header}{"".join(rows)}</table>'


def _layer_name(layer: Mapping[str, Any]) -> str:
    title = layer["title"]
    return (
        f"<td>{escape(title['zh'])}<br><span class='en'>{escape(title['en'])}</span>"
        f"<br><code>{escape(layer['id'])}</code></td>"
    )


def _status(doc: Mapping[str, Any]) -> str:
    summary = doc["summary"]
    if not summary["layers_changed"]:
        return '<p><span class="status ok">无变化 No changes</span></p>'
    text = (
        f"{summary['layers_changed']} / {summary['layers']} 个图层有变化 layers changed: "
        f"新增 added {summary['added']}, 删除 removed {summary['removed']}, "
        f"变更 changed {summary['changed']}"
    )
    return f'<p><span class="status changed">有变化 Changed</span> {escape(text)}</p>'


def _area_cells(totals: Mapping[str, Any]) -> str:
    if "gained_ha" not in totals:
        return '<td class="num"></td>' * 3
    return (
        _num(totals["gained_ha"], 4, signed=True)
        + _num(-totals["lost_ha"], 4, signed=True)
        + _num(totals["net_ha"], 4, signed=True)
    )


def _layers_table(layers: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for layer in layers:
        t = layer["totals"]
        changed = f"{t['changed']} ({t['geometry_changed']} / {t['attributes_changed']})"
        rows.append(
            "<tr>"
            + _layer_name(layer)
            + _cell(STATUS_LABELS.get(layer["status"], layer["status"]))
            + _num(t["added"], 0)
            + _num(t["removed"], 0)
            + _cell(changed, "num")
            + _area_cells(t)
            + "</tr>"
        )
    head = (
        "图层 Layer",
        "状态 Status",
        "新增 Added",
        "删除 Removed",
        "变更 Changed (几何 geometry / 属性 attributes)",
        "增加 Gained (公顷 ha)",
        "减少 Lost (公顷 ha)",
        "净变化 Net (公顷 ha)",
    )
    return _table(head, rows, "summary")


def _indicators(indicators: Mapping[str, Any]) -> str:
    units = [indicators.get("city") or {}, *(indicators.get("counties") or ())]
    rows = []
    for unit in units:
        for role in CONTROL_LINE_ROLES:
            figures = unit.get(role)
            if not figures:
                continue
            rows.append(
                "<tr>"
                + _cell(f"{unit.get('name') or ''} {unit.get('code') or ''}".strip())
                + _cell(LINE_LABELS[role])
                + _num(figures["old_km2"], 4)
                + _num(figures["new_km2"], 4)
                + _num(figures["delta_km2"], 4, signed=True)
                + "</tr>"
            )
    if not rows:
        return "<p>没有指标。No indicators.</p>"
    head = ("单元 Unit", "指标 Indicator", "原 Old (km²)", "新 New (km²)", "变化 Change (km²)")
    return _table(head, rows, "indicators")


def _counties(counties: Mapping[str, Any] | None, titles: Mapping[str, str]) -> str:
    if not counties:
        return "<p>没有县级行政区图层。No county layer.</p>"
    rows = []
    for unit in counties["units"]:
        name = f"{unit['name'] or ''} {unit['code'] or ''}".strip() or "县域外 Outside the counties"
        for layer_id, t in unit["layers"].items():
            rows.append(
                "<tr>"
                + _cell(name)
                + _cell(titles.get(layer_id, layer_id))
                + _num(t["added"], 0)
                + _num(t["removed"], 0)
                + _num(t["changed"], 0)
                + _area_cells(t)
                + "</tr>"
            )
    if not rows:
        return "<p>没有变化。No changes.</p>"
    head = (
        "县 County",
        "图层 Layer",
        "新增 Added",
        "删除 Removed",
        "变更 Changed",
        "增加 Gained (公顷 ha)",
        "减少 Lost (公顷 ha)",
        "净变化 Net (公顷 ha)",
    )
    return _table(head, rows, "counties")


def _land_use(land_use: Mapping[str, Any] | None) -> str:
    if not land_use:
        return "<p>没有用地用海图层。No land-use layer.</p>"
    rows = [
        "<tr>"
        + _cell(entry["code"] or "—")
        + _cell(entry["name"] or "")
        + _area_cells(entry)
        + "</tr>"
        for entry in land_use["classes"]
    ]
    if not rows:
        return "<p>用地结构没有变化。No change in the land-use structure.</p>"
    head = (
        "一级类 Class",
        "名称 Name",
        "增加 Gained (公顷 ha)",
        "减少 Lost (公顷 ha)",
        "净变化 Net",
    )
    return _table(head, rows, "classes")


def _id_problems(layers: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for layer in layers:
        for side, label in (("old", "原版本 old"), ("new", "新版本 new")):
            ids = layer["ids"][side]
            if not ids["missing"] and not ids["duplicated"]:
                continue
            rows.append(
                "<tr>"
                + _layer_name(layer)
                + _cell(label)
                + _num(ids["missing"], 0)
                + _cell(", ".join(str(f) for f in ids["missing_fids"]))
                + _num(ids["duplicated"], 0)
                + _cell(", ".join(str(v) for v in ids["duplicated_ids"]))
                + "</tr>"
            )
    if not rows:
        return ""
    head = (
        "图层 Layer",
        "版本 Release",
        "缺标识码 Missing id",
        "要素号 Feature ids (first)",
        "标识码重复 Duplicated",
        "重复的标识码 Ids (first)",
    )
    return (
        "<h2>标识码问题 Id problems</h2>"
        "<p>这些要素没有参与比对。These features were not matched.</p>" + _table(head, rows, "ids")
    )


def _fields_text(fields: Mapping[str, Sequence[Any]]) -> str:
    return "; ".join(f"{name}: {old} → {new}" for name, (old, new) in fields.items())


def _change_rows(layer: Mapping[str, Any]) -> str:
    changes = layer["changes"]
    rows = []
    for change in changes[:LISTED]:
        what = []
        if change["geometry"]:
            what.append("几何 geometry")
        if change["fields"]:
            what.append("属性 attributes")
        lonlat = change["lonlat"]
        rows.append(
            f'<tr class="{escape(change["kind"])}">'
            + _cell(change["id"])
            + _cell(KIND_LABELS.get(change["kind"], change["kind"]), "kind")
            + _cell(", ".join(what))
            + _cell(_fields_text(change["fields"]))
            + _num(change["area_m2"], 2, signed=True)
            + _num(change["shift_m"], 2)
            + _cell(change.get("county"))
            + _cell(f"{lonlat[0]:.6f},{lonlat[1]:.6f}" if lonlat else "")
            + "</tr>"
        )
    head = (
        f"标识码 {layer['id_field']}",
        "类型 Kind",
        "变化 What",
        "属性 Fields (old → new)",
        "面积变化 Area (m²)",
        "位移 Shift (m)",
        "县 County",
        "位置 Location (lon,lat)",
    )
    title = layer["title"]
    more = ""
    if len(changes) > LISTED:
        more = (
            f"<p>仅列出前 {LISTED} 条，共 {len(changes)} 条；全部见 diff.json。"
            f"<span class='en'>The first {LISTED} of {len(changes)}; all are in diff.json."
            "</span></p>"
        )
    return (
        f"<h3 id='layer-{escape(layer['id'])}'>{escape(title['zh'])} "
        f"<span class='en'>{escape(title['en'])}</span> <code>{escape(layer['id'])}</code></h3>"
        + more
        + _table(head, rows, "changes")
    )


def render_html(doc: Mapping[str, Any]) -> str:
    """The page for a diff document (ReleaseDiff.to_dict())."""
    layers = doc["layers"]
    titles = {layer["id"]: f"{layer['title']['zh']} {layer['id']}" for layer in layers}
    tolerance = doc["tolerance"]
    context = {
        "原版本 Old release": f"{doc['old']['release']} ({doc['old']['created']})",
        "新版本 New release": f"{doc['new']['release']} ({doc['new']['created']})",
        "城市 City": f"{doc['city']['name'] or ''} {doc['city']['code'] or ''}".strip(),
        "受众 Audience": doc["audience"],
        "面积坐标系 Areas in": doc["crs"],
        "容差 Tolerance": f"{tolerance['area_m2']} m², {tolerance['shift_m']} m",
        "生成时间 Created": doc["created"],
    }
    changed = [layer for layer in layers if layer["changes"]]
    body = [
        _status(doc),
        context_list(context),
        "<h2>图层汇总 Layers</h2>",
        _layers_table(layers),
        "<h2>指标变化 Indicators</h2>",
        _indicators(doc["indicators"]),
        "<h2>按县汇总 By county</h2>",
        _counties(doc["counties"], titles),
        "<h2>用地结构变化 Land use by first-level class</h2>",
        _land_use(doc["land_use"]),
        _id_problems(layers),
        "<h2>要素变化清单 Changed features</h2>",
        "".join(_change_rows(layer) for layer in changed) or "<p>没有变化。No changes.</p>",
    ]
    title = f"版本差异 Release diff — {doc['old']['release']} → {doc['new']['release']}"
    return html_page(title, body, css=_CSS)
