"""A structural check of a MapLibre style document, in pure Python.

Not the full style specification: the checks that catch what a generator gets wrong — version,
sources, unique ids, source and source-layer of each layer (an administrative label layer draws
the `labels` layer filtered to its catalog layer), property names for the layer type,
colours, zoom ranges, match expressions MapLibre would reject (a label twice, a wrong arity),
interpolation stops, glyphs for text, and the onemap metadata. `validate_style` returns the
problems found, an empty list for a good style.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from publish.domain import LABELS_LAYER

__all__ = ["validate_style"]

_LAYER_TYPES = {
    "background": ("background-",),
    "fill": ("fill-",),
    "line": ("line-",),
    "symbol": ("text-", "icon-", "symbol-"),
    "circle": ("circle-",),
    "fill-extrusion": ("fill-extrusion-",),
    "raster": ("raster-",),
    "hillshade": ("hillshade-",),
    "heatmap": ("heatmap-",),
}
_SOURCE_TYPES = {"vector", "raster", "raster-dem", "geojson", "image", "video"}
_HEX = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")
_FUNCTION = re.compile(r"^(?:rgb|rgba|hsl|hsla)\([0-9., %]+\)$")


def validate_style(style: Any, layer_ids: Iterable[str] | None = None) -> list[str]:
    """Problems of `style`; with `layer_ids`, every source-layer must be one of them."""
    if not isinstance(style, dict):
        return ["the style is not a JSON object"]
    problems: list[str] = []
    if style.get("version") != 8:
        problems.append(f"version must be 8 (got {style.get('version')!r})")
    sources = style.get("sources")
    if not isinstance(sources, dict):
        problems.append("sources must be an object")
        sources = {}
    for name, source in sources.items():
        if not isinstance(source, dict) or source.get("type") not in _SOURCE_TYPES:
            problems.append(f"source {name!r}: unknown type")
        elif source["type"] == "vector" and not (source.get("url") or source.get("tiles")):
            problems.append(f"source {name!r}: a vector source needs url or tiles")
    layers = style.get("layers")
    if not isinstance(layers, list) or not layers:
        return [*problems, "layers must be a non-empty list"]
    allowed = set(layer_ids) if layer_ids is not None else None
    seen: set[str] = set()
    for index, layer in enumerate(layers):
        where = f"layer #{index}"
        if not isinstance(layer, dict):
            problems.append(f"{where}: not an object")
            continue
        if not isinstance(layer.get("id"), str) or not layer["id"]:
            problems.append(f"{where}: id missing")
        else:
            where = f"layer {layer['id']!r}"
            if layer["id"] in seen:
                problems.append(f"{where}: id is not unique")
            seen.add(layer["id"])
        problems += [f"{where}: {p}" for p in _layer(layer, sources, allowed, style)]
    return problems


def _area_label(layer: dict[str, Any], meta: dict[str, Any]) -> bool:
    """A label layer drawn from the `labels` layer's points of one catalog layer."""
    return (
        layer.get("source-layer") == LABELS_LAYER
        and meta.get("onemap:part") == "label"
        and layer.get("filter") == ["==", ["get", "layer"], meta.get("onemap:layer")]
    )


def _layer(
    layer: dict[str, Any], sources: dict[str, Any], allowed: set[str] | None, style: dict[str, Any]
) -> list[str]:
    kind = layer.get("type")
    if kind not in _LAYER_TYPES:
        return [f"unknown type {kind!r}"]
    problems: list[str] = []
    if kind != "background":
        if layer.get("source") not in sources:
            problems.append(f"source {layer.get('source')!r} is not in the style's sources")
        elif sources[layer["source"]].get("type") == "vector":
            source_layer = layer.get("source-layer")
            if not isinstance(source_layer, str) or not source_layer:
                problems.append("a vector layer needs a source-layer")
        meta = layer.get("metadata") or {}
        source_layer = layer.get("source-layer")
        if _area_label(layer, meta):
            source_layer = meta["onemap:layer"]  # drawn from the labels layer, named for its area
        if allowed is not None and isinstance(source_layer, str) and source_layer not in allowed:
            problems.append(f"source-layer {source_layer!r} is not a catalog layer")
        if not isinstance(meta.get("onemap:layer"), str):
            problems.append("metadata onemap:layer is missing")
        elif meta["onemap:layer"] != source_layer:
            problems.append("metadata onemap:layer differs from source-layer")
        title = meta.get("onemap:title")
        if not (
            isinstance(title, dict) and all(isinstance(title.get(k), str) for k in ("zh", "en"))
        ):
            problems.append("metadata onemap:title needs zh and en")
        if not isinstance(meta.get("onemap:legend"), list):
            problems.append("metadata onemap:legend must be a list")
    for key in ("minzoom", "maxzoom"):
        value = layer.get(key)
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 24):
            problems.append(f"{key} must be from 0 to 24")
    low, high = layer.get("minzoom"), layer.get("maxzoom")
    if isinstance(low, int | float) and isinstance(high, int | float) and low >= high:
        problems.append("minzoom must be below maxzoom")
    prefixes = _LAYER_TYPES[kind]
    for group in ("paint", "layout"):
        props = layer.get(group) or {}
        if not isinstance(props, dict):
            problems.append(f"{group} must be an object")
            continue
        for name, value in props.items():
            if name != "visibility" and not name.startswith(prefixes):
                problems.append(f"{group} property {name!r} does not belong to a {kind} layer")
            if name == "visibility" and value not in ("visible", "none"):
                problems.append("visibility must be 'visible' or 'none'")
            if name.endswith("-color"):
                problems += [f"{name}: {p}" for p in _colours(value)]
            problems += [f"{name}: {p}" for p in _expressions(value)]
    layout = layer.get("layout") or {}
    if kind == "symbol" and "text-field" in layout:
        if not style.get("glyphs"):
            problems.append("text-field needs the style's glyphs URL")
        font = layout.get("text-font")
        if font is not None and not (
            isinstance(font, list) and all(isinstance(f, str) for f in font)
        ):
            problems.append("text-font must be a list of font names")
    return problems


def _outputs(value: Any) -> list[Any]:
    """The literal values an expression can produce (for colour checks)."""
    if not isinstance(value, list) or not value:
        return [value]
    op = value[0]
    if op == "match":
        pairs = value[2:-1]
        return [*[o for out in pairs[1::2] for o in _outputs(out)], *_outputs(value[-1])]
    if op == "interpolate":
        return [o for out in value[4::2] for o in _outputs(out)]
    if op == "step":
        return [o for out in [value[2], *value[4::2]] for o in _outputs(out)]
    if op in ("case", "coalesce"):
        return [o for out in value[1:] for o in _outputs(out)]
    return []  # a data expression (get, to-color, ...): not checked here


def _colours(value: Any) -> list[str]:
    problems = []
    for output in _outputs(value):
        if not isinstance(output, str) or not (_HEX.match(output) or _FUNCTION.match(output)):
            problems.append(f"{output!r} is not a colour")
    return problems


def _expressions(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not isinstance(value[0], str):
        return []
    problems: list[str] = []
    op = value[0]
    if op == "match":
        if len(value) < 5 or len(value) % 2 == 0:
            problems.append("match needs an input, label/output pairs and a fallback")
        else:
            seen: set[Any] = set()
            pairs = value[2:-1]
            for labels in pairs[::2]:
                items = labels if isinstance(labels, list) else [labels]
                if not items:
                    problems.append("match has an empty label list")
                for label in items:
                    if not isinstance(label, str | int | float) or isinstance(label, bool):
                        problems.append(f"match label {label!r} must be a string or a number")
                    elif label in seen:
                        problems.append(f"match label {label!r} appears twice")
                    seen.add(label)
            kinds = {
                type(x)
                for labels in pairs[::2]
                for x in (labels if isinstance(labels, list) else [labels])
            }
            if len(kinds) > 1:
                problems.append("match labels mix strings and numbers")
            for output in [*pairs[1::2], value[-1]]:
                problems += _expressions(output)
            problems += _expressions(value[1])
        return problems
    if op == "interpolate":
        stops = value[3:]
        if len(value) < 5 or len(stops) % 2:
            return ["interpolate needs a type, an input and stop/output pairs"]
        inputs = stops[::2]
        if any(not isinstance(z, int | float) for z in inputs) or inputs != sorted(set(inputs)):
            problems.append("interpolate stops must be numbers in ascending order")
        for output in stops[1::2]:
            problems += _expressions(output)
        if _has_zoom(stops[1::2]):
            problems.append("zoom may only be the input of a top-level interpolate or step")
        return problems
    for item in value[1:]:
        if isinstance(item, list) and item[:1] == ["zoom"] and op not in ("interpolate", "step"):
            problems.append(f"['zoom'] inside {op!r}")
        problems += _expressions(item)
    return problems


def _has_zoom(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, list) and (value == ["zoom"] or _has_zoom(value)):
            return True
    return False
