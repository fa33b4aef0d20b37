"""What the review checked, written in every report, passed or refused: per layer (title, source,
encoding and CRS as read, features, area, fields published and kept back, zooms), per rule
(features checked, features failing), the three control lines' areas, shares and overlaps, and
the build's tools and outcome.

The counts come from where the checks ran: each layer's rule counts from its LayerChecker (kept
in layer.json, so a reused layer has them too), the cross-layer rules' and the control lines'
figures from the build's cross checks (cached with their findings); the failures are the
review's findings ("... and N more" counting for N). The sources' metadata (format, encoding,
CRS, fields) is read again here, cheaply (pyogrio.read_info): a layer's fingerprint covers its
source files, so a reused layer's source is the one it was built from. A figure the build did
not record is None ("unknown"), never a guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from html import escape
from typing import Any

import pyogrio

from publish.catalog import CONTROL_LINE_ROLES, LayerSpec
from publish.checks.findings import Review
from publish.checks.rules import RULES, Rule
from publish.domain import INTERNAL
from publish.review.inputs import ReportInputs
from publish.sources import is_gcj02

__all__ = ["inventory_html", "take_inventory"]

# how the source could not be read: these findings mean the layer was not read
_UNREADABLE = ("source_error", "no_crs")
_LINE_NAMES = {
    "red_line": ("生态保护红线", "Ecological red line"),
    "farmland": ("永久基本农田", "Permanent farmland"),
    "urban_boundary": ("城镇开发边界", "Urban boundary"),
}
# where the encoding or the CRS came from, as the page says it
_FROM = {
    "catalog": "目录 catalog",
    ".cpg": ".cpg",
    "GDAL": "GDAL 识别 detected",
    "file": "文件 file",
}


def take_inventory(review: Review, inputs: ReportInputs) -> dict[str, Any]:
    """The inventory as JSON-able data (review.json's "checked")."""
    return {
        "outcome": inputs.outcome,
        "crs": inputs.catalog.crs,
        "layers": [_layer(spec, inputs) for spec in inputs.catalog.layers],
        "rules": _rules(review, inputs),
        "control_lines": _control_lines(inputs.cross.get("control_lines")),
        "tools": {str(k): str(v) for k, v in inputs.tools.items()},
    }


# -- layers ----------------------------------------------------------------------------------


def _layer(spec: LayerSpec, inputs: ReportInputs) -> dict[str, Any]:
    result = inputs.layers.get(spec.id)
    findings = list(result.findings) if result is not None else []
    failure = next((f for f in findings if f.kind in _UNREADABLE), None)
    entry: dict[str, Any] = {
        "id": spec.id,
        "title": {"zh": spec.title_zh, "en": spec.title_en},
        "source": inputs.relative(spec.source),
        "layer": spec.layer,
        "format": None,
        "encoding": None,
        "crs": None,
        "features": None,
        "geometry": spec.geometry or (result.geometry if result is not None else None),
        "area_m2": None,
        "fields": {"published": None, "kept_back": None},
        "zoom": [spec.minzoom, spec.maxzoom],
        "access": spec.access,
        "error": inputs.scrub(failure.message) if failure is not None else None,
    }
    if result is None:
        entry["error"] = entry["error"] or "not read by this build"
        return entry
    if failure is None:
        entry["features"] = int(result.count)
        if entry["geometry"] == "polygon":
            entry["area_m2"] = round(float(result.area_m2), 2)
    try:
        info = pyogrio.read_info(spec.source, layer=spec.layer, encoding=spec.encoding)
    except Exception as exc:  # pyogrio raises its own and GDAL's errors
        entry["error"] = entry["error"] or inputs.scrub(f"cannot be read: {exc}")
        return entry
    names = [str(name) for name in info["fields"]]
    entry["format"] = str(info["driver"])
    entry["encoding"] = _encoding(spec, info.get("encoding"))
    entry["crs"] = _crs(spec, info.get("crs"))
    entry["fields"] = {
        "published": [name for name in spec.fields if name in names],
        "kept_back": [name for name in names if name not in spec.fields],
    }
    return entry


def _encoding(spec: LayerSpec, detected: Any) -> dict[str, str]:
    """The text encoding the build read the source with, and where it came from (`detected`:
    what GDAL reports for the source opened without an encoding)."""
    if spec.encoding:
        return {"name": spec.encoding, "from": "catalog"}
    cpg = spec.source.with_suffix(".cpg")
    if spec.source.suffix.lower() == ".shp" and cpg.is_file():
        text = cpg.read_text(encoding="ascii", errors="replace").strip()
        return {"name": text or "UTF-8", "from": ".cpg"}
    return {"name": str(detected or "UTF-8"), "from": "GDAL"}


def _crs(spec: LayerSpec, file_crs: Any) -> dict[str, str | None]:
    """The CRS the build read the source in, where it came from, and GCJ-02's conversion."""
    if is_gcj02(spec):
        return {"name": "GCJ-02", "from": "catalog", "note": "GCJ-02 → converted to WGS 84"}
    if spec.crs:
        return {"name": spec.crs, "from": "catalog", "note": None}
    return {"name": str(file_crs) if file_crs else None, "from": "file", "note": None}


# -- rules -----------------------------------------------------------------------------------


def _rules(review: Review, inputs: ReportInputs) -> list[dict[str, Any]]:
    failed: Counter[tuple[str, str]] = Counter()
    for finding in review.findings:
        failed[(finding.kind, finding.layer)] += finding.count
    order = [spec.id for spec in inputs.catalog.layers]
    out = []
    for rule in RULES:
        checked = _checked(rule, inputs)
        layers = dict(checked or {})
        for kind, layer in failed:
            if kind == rule.kind and layer not in layers:
                layers[layer] = None  # failed where the build kept no count: unknown
        rows: list[dict[str, Any]] = [
            {"id": lid, "checked": layers[lid], "failed": failed[(rule.kind, lid)]}
            for lid in sorted(
                layers, key=lambda lid: order.index(lid) if lid in order else len(order)
            )
        ]
        counts = [row["checked"] for row in rows]
        out.append(
            {
                "kind": rule.kind,
                "zh": rule.zh,
                "en": rule.en,
                "scope": rule.scope,
                "unit": rule.unit,
                "blocking": rule.blocking,
                "run": None if checked is None else bool(rows),
                "checked": None if checked is None or None in counts else sum(counts),
                "failed": sum(row["failed"] for row in rows),
                "layers": rows,
            }
        )
    return out


def _checked(rule: Rule, inputs: ReportInputs) -> dict[str, int | None] | None:
    """{layer id: features (or layers) the rule checked there}, only where it ran; None when
    the build did not say (a report written without the cross checks' figures)."""
    if rule.scope == "layer":
        out: dict[str, int | None] = {}
        for spec in inputs.catalog.layers:
            result = inputs.layers.get(spec.id)
            counts = result.checked if result is not None else None
            if counts is None:
                out[spec.id] = None  # an older cache entry: the counts were not kept
            elif rule.kind in counts:
                out[spec.id] = int(counts[rule.kind])
        return out
    if rule.kind == "plan_conflict":  # the release's conflicts output, on the internal layers
        if inputs.refused:
            return {}
        from publish.indicators.conflicts import conflict_inputs

        seen = {spec.id for spec in inputs.catalog.for_audience(INTERNAL)}
        taking_part = dict.fromkeys(conflict_inputs(inputs.catalog, seen).values())
        return {lid: int(inputs.layers[lid].count) for lid in taking_part if lid in inputs.layers}
    cross = inputs.cross.get("checked")
    if cross is None:
        return None
    return {str(lid): int(n) for lid, n in (cross.get(rule.kind) or {}).items()}


# -- control lines ---------------------------------------------------------------------------


def _control_lines(figures: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The cross checks' control-line figures with km² and 公顷 beside the m²."""
    if not figures:
        return None
    lines = []
    for line in figures["lines"]:
        zh, en = _LINE_NAMES[line["role"]]
        lines.append({**line, "zh": zh, "en": en, **_units(line["area_m2"])})
    return {
        "city": {"layer": figures.get("city_layer"), **_units(figures.get("city_m2"))},
        "lines": lines,
        "overlaps": [{**pair, **_units(pair["area_m2"])} for pair in figures["overlaps"]],
    }


def _units(m2: float | None) -> dict[str, float | None]:
    if m2 is None:
        return {"area_m2": None, "area_km2": None, "area_ha": None}
    return {"area_m2": m2, "area_km2": round(m2 / 1e6, 4), "area_ha": round(m2 / 1e4, 2)}


# -- the page --------------------------------------------------------------------------------


def inventory_html(doc: dict[str, Any]) -> list[str]:
    """The inventory's sections of review.html (escaped)."""
    parts = [
        "<h2>审查内容 What was checked</h2>",
        f"<p>结果 Outcome: {escape(doc['outcome'])}；面积计算坐标系 Areas in "
        f"{escape(doc['crs'])}</p>",
        "<h3>图层 Layers</h3>",
        _layers_table(doc["layers"]),
        "<h3>字段 Fields</h3>",
        _fields_table(doc["layers"]),
        "<h3>审查规则 Rules</h3>",
        _rules_table(doc["rules"]),
        "<h3>三条控制线 The three control lines</h3>",
        _lines_html(doc["control_lines"]),
        "<h3>工具版本 Tools</h3>",
        _table(
            ["工具 Tool", "版本 Version"],
            [[escape(k), escape(v)] for k, v in doc["tools"].items()],
            "tools",
        ),
    ]
    return parts


def _table(
    head: list[str], rows: list[list[str]], css: str, num: frozenset[int] = frozenset()
) -> str:
    """A table of already escaped cells; the columns in `num` right-aligned (class num)."""
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{cell}</td>" if i in num else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="{css}"><tr>{cells}</tr>{body}</table>'


def _title(layer: Mapping[str, Any]) -> str:
    return (
        f"{escape(layer['title']['zh'])}<br><span class='en'>{escape(layer['title']['en'])}"
        f"</span><br><code>{escape(layer['id'])}</code>"
    )


def _n(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _read_as(layer: Mapping[str, Any]) -> str:
    encoding, crs = layer["encoding"], layer["crs"]
    if encoding is None or crs is None:
        return "—"
    shown = crs["note"] or crs["name"] or "—"
    return (
        f"{escape(encoding['name'])} <span class='en'>({_FROM[encoding['from']]})</span><br>"
        f"{escape(shown)} <span class='en'>({_FROM[crs['from']]})</span>"
    )


def _layers_table(layers: list[dict[str, Any]]) -> str:
    rows = []
    for layer in layers:
        source = escape(layer["source"]) + (
            f"<br><span class='en'>{escape(layer['format'])}</span>" if layer["format"] else ""
        )
        if layer["error"]:
            source += f"<br><span class='error'>无法读取 not read: {escape(layer['error'])}</span>"
        area = layer["area_m2"]
        zoom = f"{layer['zoom'][0]}–{layer['zoom'][1]}<br>{escape(layer['access'])}"
        rows.append(
            [
                _title(layer),
                source,
                _read_as(layer),
                _n(layer["features"]),
                _n(area / 1e6 if area is not None else None, 2),
                _n(area / 1e4 if area is not None else None, 2),
                zoom,
            ]
        )
    head = [
        "图层 Layer",
        "数据源 Source",
        "编码 / 坐标系 Read as",
        "要素 Features",
        "km²",
        "公顷 ha",
        "级别 Zoom / 访问 Access",
    ]
    return _table(head, rows, "inventory layers", frozenset({3, 4, 5}))


def _fields_table(layers: list[dict[str, Any]]) -> str:
    def names(value: list[str] | None) -> str:
        return "—" if value is None else (escape(", ".join(value)) or "（无 none）")

    rows = [
        [
            f"<code>{escape(layer['id'])}</code>",
            names(layer["fields"]["published"]),
            names(layer["fields"]["kept_back"]),
        ]
        for layer in layers
    ]
    return _table(["图层 Layer", "发布 Published", "不发布 Kept back"], rows, "inventory fields")


def _rules_table(rules: list[dict[str, Any]]) -> str:
    rows = []
    for rule in rules:
        unit = " 个图层 layers" if rule["unit"] == "layers" else ""
        if rule["run"] is False:
            checked = "未运行 not run"
        elif rule["checked"] is None:
            checked = "未知 unknown"
        else:
            checked = f"{rule['checked']:,}{unit}"
        by_layer = "; ".join(
            f"{escape(row['id'])} {_n(row['checked'])}"
            + (f" / {row['failed']:,}" if row["failed"] else "")
            for row in rule["layers"]
        )
        rows.append(
            [
                f"{escape(rule['zh'])}<br><span class='en'>{escape(rule['en'])}</span>",
                checked,
                f"{rule['failed']:,}",
                f"<span class='en'>{by_layer}</span>",
            ]
        )
    head = ["规则 Rule", "检查 Checked", "不通过 Failed", "按图层 By layer（检查 / 不通过）"]
    return _table(head, rows, "inventory rules", frozenset({1, 2}))


def _lines_html(lines: Mapping[str, Any] | None) -> str:
    if lines is None:
        return "<p>未计算 Not measured.</p>"
    city = lines["city"]
    rows = [
        [
            f"{escape(line['zh'])}<br><span class='en'>{escape(line['en'])}</span>",
            escape(", ".join(line["layers"])) or "—",
            _n(line["area_km2"], 2),
            _n(line["area_ha"], 2),
            "—" if line["share"] is None else f"{line['share']:.2%}",
        ]
        for line in lines["lines"]
    ]
    names = {role: _LINE_NAMES[role][0] for role in CONTROL_LINE_ROLES}
    overlaps = [
        [
            escape(" × ".join(names[role] for role in pair["roles"])),
            _n(pair["area_m2"], 2),
            _n(pair["area_ha"], 4),
        ]
        for pair in lines["overlaps"]
    ]
    return (
        f"<p>市域面积 City area（{escape(str(city['layer'] or '—'))}）："
        f"{_n(city['area_km2'], 2)} km²</p>"
        + _table(
            ["控制线 Line", "图层 Layers", "km²", "公顷 ha", "占市域 Share"],
            rows,
            "inventory lines",
            frozenset({2, 3, 4}),
        )
        + _table(
            ["两线重叠 Overlap", "m²", "公顷 ha"], overlaps, "inventory overlaps", frozenset({1, 2})
        )
    )
