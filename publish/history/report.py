"""The diff written out: diff.json and diff.html into a folder, and the terminal's summaries.

write_diff(diff, folder)     # folder/diff.json + folder/diff.html
summary_lines(diff)          # one line per changed layer (the build's terminal)
summary_table(diff)          # every layer, one row each (`release diff`)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from publish.history.diff import KEPT, LayerDiff, ReleaseDiff
from publish.history.page import render_html

__all__ = [
    "DIFF_HTML",
    "DIFF_JSON",
    "summary_line",
    "summary_lines",
    "summary_table",
    "write_diff",
]

DIFF_JSON = "diff.json"
DIFF_HTML = "diff.html"
_SIGNS = (("+", "added"), ("−", "removed"), ("~", "changed"))


def write_diff(diff: ReleaseDiff, folder: Path) -> tuple[Path, Path]:
    """Write folder/diff.json and folder/diff.html (creating the folder); return both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    doc = diff.to_dict()
    json_path, html_path = folder / DIFF_JSON, folder / DIFF_HTML
    _write(json_path, json.dumps(doc, ensure_ascii=False) + "\n")
    _write(html_path, render_html(doc))
    return json_path, html_path


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _area(totals: dict[str, Any]) -> str:
    if "gained_ha" not in totals:
        return ""
    return f"+{totals['gained_ha']:,.4f} ha −{totals['lost_ha']:,.4f} ha"


def _ids(layer: LayerDiff) -> str:
    parts = []
    for side, problems in (("old", layer.old_ids), ("new", layer.new_ids)):
        if problems.missing:
            parts.append(f"{problems.missing} without {layer.id_field} ({side})")
        if problems.duplicated:
            shown = ", ".join(str(v) for v in problems.duplicated_ids)
            parts.append(
                f"{problems.duplicated} with a repeated {layer.id_field} ({side}: {shown})"
            )
    return "; ".join(parts)


def _line(layer: LayerDiff) -> str:
    t = layer.totals()
    text = (
        f"{layer.id} {layer.title.zh}: +{t['added']} −{t['removed']} ~{t['changed']} "
        f"(geometry {t['geometry_changed']}, attributes {t['attributes_changed']})"
    )
    if area := _area(t):
        text += f", {area}"
    if layer.status != KEPT:
        text += f"; layer {layer.status}"
    if layer.fields_added or layer.fields_removed:
        text += f"; fields +{list(layer.fields_added)} −{list(layer.fields_removed)}"
    if layer.catalog:
        text += "; catalog " + ", ".join(f"{k} {a}→{b}" for k, (a, b) in layer.catalog.items())
    if ids := _ids(layer):
        text += f"; not matched: {ids}"
    return text


def summary_lines(diff: ReleaseDiff) -> list[str]:
    """One line per changed layer, e.g. ``dltb 现状地类图斑（三调）: +2 −3 ~7 (geometry 3,
    attributes 5), +0.5200 ha −0.3100 ha``; one line saying so when nothing changed."""
    head = f"Changes {diff.old.id} → {diff.new.id} ({diff.audience}):"
    changed = diff.changed_layers
    if not changed:
        return [f"{head} none"]
    return [head, *(f"  {_line(layer)}" for layer in changed)]


def summary_line(diff: ReleaseDiff) -> str:
    """The whole diff in one line, e.g. ``3 layers changed: stbhhx +5 −3, ydyh ~29, dltb +6 −7
    ~7`` (added, removed, changed features; a layer changed otherwise is named alone), or
    ``no change``. It names only the diff's audience's layers."""
    parts = []
    for layer in diff.changed_layers:
        t = layer.totals()
        counts = [f"{sign}{t[kind]}" for sign, kind in _SIGNS if t[kind]]
        parts.append(" ".join([layer.id, *counts]))
    if not parts:
        return "no change"
    return f"{len(parts)} layer{'s' if len(parts) > 1 else ''} changed: {', '.join(parts)}"


def summary_table(diff: ReleaseDiff) -> list[str]:
    """Every layer of the diff, one row each, then the changed indicators: the text
    `python -m publish release diff` prints."""
    rows = [("layer", "status", "added", "removed", "changed", "gained ha", "lost ha", "ids")]
    for layer in diff.layers:
        t = layer.totals()
        rows.append(
            (
                layer.id,
                layer.status if layer.compared else f"{layer.status} (same fingerprint)",
                str(t["added"]),
                str(t["removed"]),
                str(t["changed"]),
                f"{t['gained_ha']:,.4f}" if "gained_ha" in t else "",
                f"{t['lost_ha']:,.4f}" if "lost_ha" in t else "",
                _ids(layer),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    right = {2, 3, 4, 5, 6}
    lines = [f"{diff.old.id} → {diff.new.id} ({diff.audience})"]
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    indicators = diff.indicators()
    for unit in [indicators.get("city") or {}, *(indicators.get("counties") or ())]:
        for role, figures in unit.items():
            if isinstance(figures, dict) and figures.get("delta_km2"):
                lines.append(
                    f"{unit.get('name') or unit.get('code')} {role}: {figures['old_km2']} → "
                    f"{figures['new_km2']} km² ({figures['delta_km2']:+} km²)"
                )
    return lines
