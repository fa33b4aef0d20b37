"""The national land-use classification (用地用海分类, 自然资发〔2023〕234号) and the planning-map
colour table (市级国土空间总体规划制图规范, appendix B), shipped as data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class LandUseClass:
    code: str
    name: str
    level: int
    parent: str | None
    colour: str | None  # "#RRGGBB": `colour_for(code)`, the one rule for a class's colour


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def land_use_classes() -> dict[str, LandUseClass]:
    """Every code of the national classification, keyed by code (e.g. "0701", "1001")."""
    classes: dict[str, LandUseClass] = {}
    for row in _rows("ydyh_classes_with_colours.csv"):
        classes[row["code"]] = LandUseClass(
            code=row["code"],
            name=row["name"],
            level=int(row["level"]),
            parent=row["parent"] or None,
            # the CSV leaves 0702 and 0704 blank; colour_for gives their siblings' (DOMAIN.md)
            colour=colour_for(row["code"]),
        )
    return classes


@cache
def colour_table() -> dict[str, str]:
    """The appendix B table: code → "#RRGGBB" for the 39 codes that have their own colour."""
    return {
        row["applies_to_code"]: row["hex"].upper() for row in _rows("zhitu_appendixB_colours.csv")
    }


# Second-level classes the table gives no colour, nor their first-level parent: the drawing
# convention takes their sibling's (城镇社区服务设施用地 as 城镇住宅用地, 农村社区服务设施用地 as 农村宅基地).
_SIBLING_COLOUR = {"0702": "0701", "0704": "0703"}


def colour_for(code: str) -> str | None:
    """A code's colour: its own entry in the table, else its nearest coloured ancestor's."""
    table = colour_table()
    current: str | None = code
    while current:
        if current in table:
            return table[current]
        if current in _SIBLING_COLOUR:
            return table[_SIBLING_COLOUR[current]]
        current = current[:-2] if len(current) > 2 else None
    return None


def is_valid_code(code: object) -> bool:
    return isinstance(code, str) and code in land_use_classes()
