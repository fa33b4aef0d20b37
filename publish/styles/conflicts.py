"""The `conflicts` layer in the style (规划冲突): a semi-transparent fill and a solid outline,
coloured per conflict kind by the tile property `kind`, from styles/conflicts.yml.

The layer is not a catalog layer, so its metadata carries what the catalog gives the others —
title, group and group title, the published fields with their titles (onemap:group_title,
onemap:fields) — and the legend and the viewer's layer list show it like one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from publish.errors import BuildError
from publish.styles.expressions import match_expression, zoom_width
from publish.styles.layers import SOURCE
from publish.styles.symbols import SymbolFile, default_styles_dir

__all__ = ["CONFLICTS_LAYER", "conflict_layers"]

CONFLICTS_LAYER = "conflicts"
FIELD_TITLES = {
    "name_zh": ("冲突类型", "Conflict"),
    "name_en": ("冲突类型（英文）", "Conflict (English)"),
    "area_m2": ("冲突面积", "Conflict area"),
    "county": ("县级行政区代码", "County code"),
}


def _title(doc: SymbolFile, key: str) -> dict[str, str]:
    sub = doc.sub(key)
    return {"zh": sub.text("zh"), "en": sub.text("en")}


def conflict_layers(kinds: Sequence[str], styles_dir: str | Path | None = None) -> list[Any]:
    """The fill and outline of the `conflicts` layer for the conflict kinds `kinds` (ids of
    publish.indicators.conflicts.KINDS); none without kinds. BuildError names the file and key
    of a bad symbol or a kind without a colour."""
    if not kinds:
        return []
    from publish.indicators.conflicts import KINDS

    doc = SymbolFile.read(Path(styles_dir or default_styles_dir()) / "conflicts.yml")
    colours = doc.sub("kinds")
    names = {kind.id: kind for kind in KINDS}
    if unknown := [k for k in kinds if k not in names]:
        raise BuildError(f"conflicts: unknown conflict kind {unknown[0]!r}")
    table = {kind: colours.colour(kind) for kind in kinds}
    visible = doc.data.get("visible", False)
    if not isinstance(visible, bool):
        raise doc.error("visible", "must be true or false")
    group = _title(doc, "group")
    meta: dict[str, Any] = {
        "onemap:layer": CONFLICTS_LAYER,
        "onemap:group": group["zh"],
        "onemap:group_title": group,
        "onemap:title": _title(doc, "title"),
        "onemap:fields": [
            {"name": name, "title": {"zh": zh, "en": en}} for name, (zh, en) in FIELD_TITLES.items()
        ],
        "onemap:legend": [
            {"values": [k], "label_zh": names[k].zh, "label_en": names[k].en} for k in kinds
        ],
    }
    colour = match_expression("kind", table, doc.colour("fallback"))
    common = {"source": SOURCE, "source-layer": CONFLICTS_LAYER}
    layout = {"visibility": "visible" if visible else "none"}
    fill = {
        "id": f"{CONFLICTS_LAYER}-fill",
        "type": "fill",
        **common,
        "metadata": meta,
        "layout": layout,
        "paint": {"fill-color": colour, "fill-opacity": doc.number("opacity", top=1.0)},
    }
    outline = {
        "id": f"{CONFLICTS_LAYER}-outline",
        "type": "line",
        **common,
        "metadata": {**meta, "onemap:legend": [], "onemap:part": "outline"},
        "layout": {**layout, "line-join": "round", "line-cap": "round"},
        "paint": {"line-color": colour, "line-width": zoom_width(doc.number("width"))},
    }
    return [fill, outline]
