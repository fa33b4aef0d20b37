"""The map legend, read back from a style so that the two can never disagree.

Labels come from each style layer's metadata ("onemap:legend"); colours, opacity, dashes and
widths come from its paint. For a colour that is a match expression, a label with "values"
takes the colour(s) the match gives those values (one entry per distinct colour), and a label
with "fallback" takes the match's fallback colour. A line layer marked "onemap:part": "outline"
adds its colour to the entries of the fill drawn with it; edges and labels add nothing.
"""

from __future__ import annotations

from typing import Any

from publish.styles.expressions import is_match, match_table, width_at

__all__ = ["build_legend"]

_OWN = ("group_title", "fields")
_KIND = {"fill": "fill", "line": "line", "circle": "point"}
_COLOUR = {"fill": "fill-color", "line": "line-color", "circle": "circle-color"}
_OPACITY = {"fill": "fill-opacity", "line": "line-opacity", "circle": "circle-opacity"}


def build_legend(style: dict[str, Any]) -> list[dict[str, Any]]:
    """One item per catalog layer in the style, the top of the map first:
    {layer, group, title: {zh, en}, visible, entries: [{label_zh, label_en, colour, kind,
    dash?, width?, opacity?, outline?, values?}], group_title?, fields?} (the last two from
    the metadata of a layer the catalog does not hold, e.g. `conflicts`)."""
    items: dict[str, dict[str, Any]] = {}
    for layer in style.get("layers", []):
        meta = layer.get("metadata") or {}
        layer_id = meta.get("onemap:layer")
        if not layer_id:
            continue
        item = items.setdefault(
            layer_id,
            {
                "layer": layer_id,
                "group": meta.get("onemap:group"),
                "title": meta.get("onemap:title"),
                "visible": False,
                "entries": [],
                # a layer the catalog does not hold names its group and fields itself
                **{key: meta[f"onemap:{key}"] for key in _OWN if f"onemap:{key}" in meta},
            },
        )
        part = meta.get("onemap:part")
        if layer["type"] not in _KIND or part in ("edges", "label"):
            continue
        item["visible"] |= (layer.get("layout") or {}).get("visibility", "visible") != "none"
        if part == "outline":
            _add_outline(item["entries"], layer)
        else:
            item["entries"] += _entries(layer, meta.get("onemap:legend") or [])
    return list(reversed(items.values()))


def _entries(layer: dict[str, Any], labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kind = layer["type"]
    paint = layer.get("paint") or {}
    colour = paint.get(_COLOUR[kind])
    common: dict[str, Any] = {"kind": _KIND[kind]}
    opacity = paint.get(_OPACITY[kind])
    if isinstance(opacity, int | float) and opacity != 1:
        common["opacity"] = opacity
    if kind == "line":
        common.update(_line_look(paint))
    entries = []
    for label in labels:
        for value_colour, values in _colours(colour, label):
            entry = {"label_zh": label["label_zh"], "label_en": label["label_en"]}
            entry.update(colour=value_colour, **common)
            if values:
                entry["values"] = values
            entries.append(entry)
    return entries


def _colours(colour: Any, label: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(colour, the label's values painted in it) for each distinct colour the label shows."""
    if not is_match(colour):
        return [(colour, list(label.get("values") or []))]
    table, fallback = match_table(colour)
    if label.get("fallback"):
        return [(fallback, [])]
    values = label.get("values")
    if not values:
        return [(c, [v for v in table if table[v] == c]) for c in dict.fromkeys(table.values())]
    by_colour: dict[str, list[Any]] = {}
    for value in values:
        by_colour.setdefault(table.get(value, fallback), []).append(value)
    return list(by_colour.items())


def _line_look(paint: dict[str, Any]) -> dict[str, Any]:
    look: dict[str, Any] = {}
    if isinstance(paint.get("line-dasharray"), list):
        look["dash"] = paint["line-dasharray"]
    width = width_at(paint.get("line-width"))
    if width is not None:
        look["width"] = width
    return look


def _add_outline(entries: list[dict[str, Any]], layer: dict[str, Any]) -> None:
    paint = layer.get("paint") or {}
    colour: Any = paint.get("line-color")
    for entry in entries:
        if entry["kind"] != "fill" or "outline" in entry:
            continue
        if is_match(colour):
            table, fallback = match_table(colour)
            values = entry.get("values") or []
            entry["outline"] = table.get(values[0], fallback) if values else fallback
        else:
            entry["outline"] = colour
        look = _line_look(paint)
        if "dash" in look:
            entry["outline_dash"] = look["dash"]
