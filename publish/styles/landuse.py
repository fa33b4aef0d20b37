"""Land-use colours for the style, straight from the national table (publish.standards).

Every code of the classification (自然资发〔2023〕234号) that has a colour takes colour_for(code):
its own appendix B colour or its nearest coloured ancestor's. The legend labels group the codes
by first-level class and colour, one label per colour, named after the classes that head it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from publish.standards import colour_for, land_use_classes
from publish.styles.expressions import match_expression

__all__ = ["FALLBACK_LABEL", "land_use_colours", "land_use_fill", "land_use_legend"]

FALLBACK_LABEL = {"label_zh": "分类外代码", "label_en": "Code outside the classification"}


def land_use_colours() -> dict[str, str]:
    """code → "#RRGGBB" for every code of the classification that has a colour."""
    colours: dict[str, str] = {}
    for code in land_use_classes():
        colour = colour_for(code)
        if colour is not None:
            colours[code] = colour
    return colours


def land_use_fill(field: str, fallback: str) -> list[Any]:
    """The fill-color match: every coloured code → its colour, anything else → `fallback`."""
    return match_expression(field, land_use_colours(), fallback)


def land_use_legend(names_en: Mapping[str, str]) -> list[dict[str, Any]]:
    """Legend labels: per first-level class, one per colour its codes take, with the codes
    ("values") and the names of the classes heading that colour (those whose parent has
    another colour or none); then the label of the fallback."""
    classes = land_use_classes()
    colours = land_use_colours()
    labels: list[dict[str, Any]] = []
    for first in sorted(code for code, c in classes.items() if c.level == 1):
        by_colour: dict[str, list[str]] = {}
        for code in classes:
            if code.startswith(first) and code in colours:
                by_colour.setdefault(colours[code], []).append(code)
        for codes in by_colour.values():
            heads = [code for code in codes if classes[code].parent not in codes]
            labels.append(
                {
                    "values": codes,
                    "label_zh": "、".join(classes[code].name for code in heads),
                    "label_en": "; ".join(names_en.get(code, classes[code].name) for code in heads),
                }
            )
    return [*labels, {"fallback": True, **FALLBACK_LABEL}]
