"""The planning map as a MapLibre style (v8), built from the layer catalog and styles/*.yml.

Drawing order, bottom to top:

    background (paper)
    surfaces: current land use, planned land use, planning zones — each covers the ground, so
              only one is visible at a time (metadata onemap:exclusive = "surface"); the one
              named in basemap.yml is visible when the map opens
    line and polygon kinds of role "other", in basemap.yml's order (rivers, roads, protected
              areas, ...), then "other" layers of no kind
    administrative boundaries, the lowest level first
    the three control lines, in control_lines.yml's order
    plan conflicts (the `conflicts` layer, when the archive holds it: styles/conflicts.yml)
    point layers (villages)
    labels: points, then administrative names, the highest level last (placed first); the
            administrative names are drawn from the `labels` layer's points, one per area

Only the audience's layers are in the style: a public style names no internal layer anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from publish.catalog import Catalog, LayerSpec
from publish.domain import AUDIENCES, INTERNAL, PUBLIC
from publish.features.labels import labelled_layers
from publish.styles.conflicts import conflict_layers
from publish.styles.expressions import match_expression
from publish.styles.landuse import land_use_fill, land_use_legend
from publish.styles.layers import (
    SOURCE,
    area_label_layer,
    circle_layer,
    fill_from,
    fill_layer,
    label_layer,
    line_layer,
    line_legend,
    metadata,
    title_label,
)
from publish.styles.symbols import SURFACE_ROLES, Fill, Kind, Line, Symbols, load_symbols

__all__ = ["LANGUAGES", "build_style", "kind_of"]

LANGUAGES = ("zh", "en")
_NAME = {
    ("zh", PUBLIC): "国土空间规划一张图（公众版）",
    ("zh", INTERNAL): "国土空间规划一张图（内部版）",
    ("en", PUBLIC): "Territorial spatial plan One Map (public)",
    ("en", INTERNAL): "Territorial spatial plan One Map (staff)",
}


def build_style(
    catalog: Catalog,
    audience: str,
    *,
    tiles_url: str,
    glyphs_url: str | None,
    sprite_url: str | None = None,
    lang: str = "zh",
    styles_dir: str | Path | None = None,
    conflict_kinds: Sequence[str] = (),
) -> dict[str, Any]:
    """A MapLibre style v8 document for the audience's layers of `catalog`.

    `tiles_url` is the TileJSON URL of the vector source "plan"; without `glyphs_url` the style
    has no labels (MapLibre cannot draw text without glyphs). `styles_dir` overrides the folder
    of symbol files (default: the repository's styles/). `conflict_kinds`: the conflict kinds
    the archive's `conflicts` layer holds (none: no such layer drawn).
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)} (got {audience!r})")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    symbols = load_symbols(styles_dir)
    specs = catalog.for_audience(audience)

    layers: list[dict[str, Any]] = [
        {
            "id": "background",
            "type": "background",
            "paint": {"background-color": symbols.background},
            "metadata": {"onemap:title": {"zh": "底色", "en": "Background"}, "onemap:legend": []},
        }
    ]
    for role in SURFACE_ROLES:
        for spec in specs:
            if spec.role == role:
                layers += _surface(spec, symbols)

    others = [s for s in specs if s.role == "other"]
    # a layer of undeclared geometry is drawn as a generic polygon here and as points below
    kinds = {spec.id: kind_of(spec, symbols) for spec in others}
    drawn_kinds = [k for k in symbols.kinds if k.geometry != "point"]
    for kind in [*drawn_kinds, *(symbols.generic[g] for g in ("polygon", "line"))]:
        for spec in others:
            if kinds[spec.id] is kind:
                layers += _kind_layers(spec, kind)

    admin = [s for s in specs if s.role == "admin"]
    levels = [symbols.admin[min(rank, len(symbols.admin) - 1)] for rank in range(len(admin))]
    for spec, level in reversed(list(zip(admin, levels, strict=True))):
        layers.append(line_layer(spec, level.line, metadata(spec, title_label(spec))))

    for control in symbols.control_lines:
        for spec in specs:
            if spec.role == control.role:
                layers += _control_line(spec, control.fill, control.line)
    layers += conflict_layers(conflict_kinds, styles_dir)

    points = [s for s in others if s.geometry in ("point", None)]
    point_kinds = {
        s.id: kinds[s.id] if s.geometry == "point" else symbols.generic["point"] for s in points
    }
    for spec in points:
        circle = point_kinds[spec.id].circle
        if circle is not None:
            meta = metadata(spec, title_label(spec))
            layers.append(circle_layer(spec, circle, meta))

    if glyphs_url is not None:
        labelled = [(s, point_kinds[s.id].label) for s in points]
        labelled += reversed([(s, lv.label) for s, lv in zip(admin, levels, strict=True)])
        areas = {s.id for s in labelled_layers(admin)}  # named from their label points
        for spec, label in labelled:
            if label is None:
                continue
            meta = metadata(spec, [], part="label")
            make = area_label_layer if spec.id in areas else label_layer
            layer = make(spec, label, symbols.font, lang, meta)
            if layer is not None:
                layers.append(layer)

    style: dict[str, Any] = {
        "version": 8,
        "name": _name(catalog, audience, lang),
        "metadata": {"onemap:audience": audience, "onemap:lang": lang},
        "sources": {SOURCE: {"type": "vector", "url": tiles_url}},
    }
    if glyphs_url is not None:
        style["glyphs"] = glyphs_url
    if sprite_url is not None:
        style["sprite"] = sprite_url
    style["layers"] = layers
    return style


def kind_of(spec: LayerSpec, symbols: Symbols) -> Kind:
    """The drawing kind of a layer of role 'other': the first kind of basemap.yml whose role and
    geometry are the layer's and which either lists a field the layer publishes or, failing
    that, an id pattern the layer's id matches; else the generic kind of its geometry."""
    for kind in symbols.kinds:
        if kind.role != spec.role or kind.geometry != spec.geometry:
            continue
        if not kind.fields and not kind.ids:
            return kind
        if set(kind.fields) & set(spec.fields):
            return kind
        if any(fnmatchcase(spec.id, pattern) for pattern in kind.ids):
            return kind
    return symbols.generic[spec.geometry or "polygon"]


def _name(catalog: Catalog, audience: str, lang: str) -> str:
    city = catalog.meta.get("city")
    prefix = str(city.get("name", "")) if isinstance(city, dict) and lang == "zh" else ""
    return f"{prefix}{_NAME[lang, audience]}"


def _surface(spec: LayerSpec, symbols: Symbols) -> list[dict[str, Any]]:
    visible = spec.role == symbols.default_surface
    if spec.role == "planning_zone":
        field = spec.code_field or symbols.zone_field
        table = {zone.code: zone.colour for zone in symbols.zones}
        colour: list[Any] = match_expression(field, table, symbols.fallback)
        legend = [{"values": [z.code], "label_zh": z.zh, "label_en": z.en} for z in symbols.zones]
        opacity = symbols.zone_opacity
    else:
        field = spec.code_field or ""
        colour = land_use_fill(field, symbols.fallback)
        legend = land_use_legend(symbols.land_use_en)
        opacity = symbols.land_use_opacity
    fill = fill_layer(
        spec, colour, opacity, metadata(spec, legend, exclusive="surface"), visible=visible
    )
    edges = line_layer(
        spec,
        symbols.edges,
        metadata(spec, [], part="edges", exclusive="surface"),
        suffix="edges",
        minzoom=symbols.edges_minzoom,
        visible=visible,
    )
    return [fill, edges]


def _kind_layers(spec: LayerSpec, kind: Kind) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    if kind.fill is not None:
        layers.append(fill_from(spec, kind.fill, metadata(spec, title_label(spec))))
    if kind.line is not None:
        if kind.fill is not None:
            meta = metadata(spec, [], part="outline")
        else:
            meta = metadata(spec, line_legend(spec, kind.line))
        layers.append(line_layer(spec, kind.line, meta))
    return layers


def _control_line(spec: LayerSpec, fill: Fill | None, line: Line | None) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    if fill is not None:
        layers.append(fill_from(spec, fill, metadata(spec, title_label(spec))))
    if line is not None:
        part = "outline" if fill is not None else None
        legend = [] if fill is not None else title_label(spec)
        layers.append(line_layer(spec, line, metadata(spec, legend, part=part)))
    return layers
