"""Style layers for one catalog layer: fill, line, circle and label layers built from symbols.

Every style layer draws from the one vector source, with source-layer = the catalog id, and
carries metadata the viewer and the legend read:

    onemap:layer   the catalog id (a viewer toggles every style layer with that id together)
    onemap:group   the catalog group
    onemap:title   {"zh", "en"}: the catalog title
    onemap:legend  legend labels [{label_zh, label_en, values?, fallback?}]; the colours are
                   NOT repeated here: the legend reads them back from the paint
    onemap:part    "outline" (outline of the fill above it), "edges" (parcel edges) or "label";
                   absent on the layer that carries the legend entries

Administrative areas are labelled from the `labels` layer (one point per area, filtered by
`layer`), not from their polygons: that label layer's source-layer is `labels` while its
onemap:layer stays the catalog id, so a viewer toggles it with the area's boundaries.

A layer's minzoom is the catalog's; no maxzoom is set, so a layer stays visible when the map
is zoomed in beyond its tiles (MapLibre overzooms the last tiles).
"""

from __future__ import annotations

from typing import Any

from publish.catalog import LayerSpec
from publish.domain import LABELS_LAYER
from publish.styles.expressions import match_expression, zoom_width
from publish.styles.symbols import Circle, Fill, Label, Line

__all__ = [
    "SOURCE",
    "area_label_layer",
    "circle_layer",
    "fill_from",
    "fill_layer",
    "label_layer",
    "line_layer",
    "line_legend",
    "metadata",
    "title_label",
]

SOURCE = "plan"


def metadata(spec: LayerSpec, legend: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "onemap:layer": spec.id,
        "onemap:group": spec.group,
        "onemap:title": {"zh": spec.title_zh, "en": spec.title_en},
        "onemap:legend": legend,
        **{f"onemap:{key}": value for key, value in extra.items() if value is not None},
    }


def title_label(spec: LayerSpec) -> list[dict[str, Any]]:
    """The legend label of a layer drawn in one colour: its own title."""
    return [{"label_zh": spec.title_zh, "label_en": spec.title_en}]


def _base(
    spec: LayerSpec, suffix: str, kind: str, minzoom: int, visible: bool, meta: dict[str, Any]
) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "id": f"{spec.id}-{suffix}",
        "type": kind,
        "source": SOURCE,
        "source-layer": spec.id,
        "metadata": meta,
    }
    if max(minzoom, spec.minzoom) > 0:
        layer["minzoom"] = max(minzoom, spec.minzoom)
    layer["layout"] = {"visibility": "visible" if visible else "none"}
    return layer


def fill_layer(
    spec: LayerSpec,
    colour: str | list[Any],
    opacity: float,
    meta: dict[str, Any],
    *,
    suffix: str = "fill",
    visible: bool = True,
) -> dict[str, Any]:
    layer = _base(spec, suffix, "fill", 0, visible, meta)
    layer["paint"] = {"fill-color": colour, "fill-opacity": opacity}
    return layer


def fill_from(spec: LayerSpec, fill: Fill, meta: dict[str, Any]) -> dict[str, Any]:
    return fill_layer(spec, fill.colour, fill.opacity, meta)


def line_layer(
    spec: LayerSpec,
    line: Line,
    meta: dict[str, Any],
    *,
    suffix: str = "line",
    minzoom: int = 0,
    visible: bool = True,
) -> dict[str, Any]:
    """A line layer; when the layer publishes `line.field`, colour and width follow its classes."""
    layer = _base(spec, suffix, "line", minzoom, visible, meta)
    classified = line.field is not None and line.field in spec.fields and line.classes
    colours = {c.value: c.colour for c in line.classes if c.colour is not None}
    widths = {c.value: c.width for c in line.classes if c.width is not None}
    paint: dict[str, Any] = {
        "line-color": (
            match_expression(line.field, colours, line.colour)
            if classified and colours and line.field
            else line.colour
        ),
        "line-width": zoom_width(line.width, line.field if classified else None, widths),
    }
    if line.dash is not None:
        paint["line-dasharray"] = list(line.dash)
    layer["paint"] = paint
    layer["layout"].update({"line-join": "round", "line-cap": "butt" if line.dash else "round"})
    return layer


def line_legend(spec: LayerSpec, line: Line) -> list[dict[str, Any]]:
    """Legend labels matching line_layer's colour: one per coloured class, or the title."""
    if not (line.field and line.field in spec.fields and any(c.colour for c in line.classes)):
        return title_label(spec)
    labels: list[dict[str, Any]] = [
        {"values": [c.value], "label_zh": c.value, "label_en": c.en}
        for c in line.classes
        if c.colour is not None
    ]
    if line.other is not None:
        labels.append({"fallback": True, "label_zh": line.other[0], "label_en": line.other[1]})
    return labels


def circle_layer(spec: LayerSpec, circle: Circle, meta: dict[str, Any]) -> dict[str, Any]:
    layer = _base(spec, "circle", "circle", 0, True, meta)
    paint: dict[str, Any] = {"circle-color": circle.colour, "circle-radius": circle.radius}
    if circle.stroke is not None:
        paint["circle-stroke-color"] = circle.stroke
        paint["circle-stroke-width"] = circle.stroke_width
    layer["paint"] = paint
    return layer


def label_layer(
    spec: LayerSpec, label: Label, font: tuple[str, ...], lang: str, meta: dict[str, Any]
) -> dict[str, Any] | None:
    """Names from the catalog's name_field (with lang "en", a published <name_field>_EN first);
    None when the layer has no name field."""
    if not spec.name_field:
        return None
    text: Any = ["get", spec.name_field]
    if lang == "en":
        english = [
            f for f in (f"{spec.name_field}_EN", f"{spec.name_field}_en") if f in spec.fields
        ]
        if english:
            text = ["coalesce", ["get", english[0]], text]
    return _symbol(_base(spec, "label", "symbol", label.minzoom, True, meta), label, font, text)


def area_label_layer(
    spec: LayerSpec, label: Label, font: tuple[str, ...], lang: str, meta: dict[str, Any]
) -> dict[str, Any]:
    """The names of `spec`'s areas drawn from their label points: the `labels` layer's points
    whose `layer` is the catalog id (one point per area, publish.features.labels), centred."""
    layer = _base(spec, "label", "symbol", label.minzoom, True, meta)
    layer["source-layer"] = LABELS_LAYER
    layer["filter"] = ["==", ["get", "layer"], spec.id]
    text: Any = ["get", "name"]
    if lang == "en":
        text = ["coalesce", ["get", "name_en"], text]
    return _symbol(layer, label, font, text)


def _symbol(
    layer: dict[str, Any], label: Label, font: tuple[str, ...], text: Any
) -> dict[str, Any]:
    if label.maxzoom is not None and label.maxzoom > layer.get("minzoom", 0):
        layer["maxzoom"] = label.maxzoom
    layout: dict[str, Any] = {
        "visibility": "visible",
        "text-field": text,
        "text-font": list(font),
        "text-size": label.size,
        "text-max-width": 8,
    }
    if label.offset is not None:
        layout.update({"text-anchor": "top", "text-offset": [0, label.offset]})
    layer["layout"] = layout
    paint: dict[str, Any] = {"text-color": label.colour}
    if label.halo is not None:
        paint.update({"text-halo-color": label.halo, "text-halo-width": 1.2})
    layer["paint"] = paint
    return layer
