"""MapLibre style expressions the planning map uses, written and read back.

Written: a `match` on an attribute (labels that share an output are grouped into one branch, as
MapLibre requires every label to appear once), and line widths that grow with the zoom.
Read back: `match_table` turns a match into {label: output} plus its fallback, which is how the
legend and the tests see exactly what the style paints.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

__all__ = [
    "ZOOM_SCALE",
    "is_match",
    "match_expression",
    "match_table",
    "width_at",
    "zoom_width",
]

# A symbol's width is given in pixels at zoom 10; these factors scale it at other zooms.
ZOOM_SCALE = ((5, 0.4), (10, 1.0), (14, 2.0), (18, 3.5))


def match_expression(field: str, table: Mapping[str, Any], fallback: Any) -> list[Any]:
    """["match", ["get", field], labels, output, ..., fallback], one branch per distinct output
    (in the order outputs first appear in `table`)."""
    branches: dict[Any, list[str]] = {}
    for label, output in table.items():
        branches.setdefault(_hashable(output), []).append(label)
    expression: list[Any] = ["match", ["get", field]]
    for output, labels in branches.items():
        expression += [labels if len(labels) > 1 else labels[0], _plain(output)]
    return [*expression, fallback]


def is_match(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 5 and value[0] == "match"


def match_table(expression: list[Any]) -> tuple[dict[Any, Any], Any]:
    """The {label: output} a match expression maps, and its fallback output."""
    if not is_match(expression) or len(expression) % 2 == 0:
        raise ValueError(f"not a match expression: {expression!r}")
    table: dict[Any, Any] = {}
    pairs = expression[2:-1]
    for labels, output in zip(pairs[::2], pairs[1::2], strict=True):
        for label in labels if isinstance(labels, list) else [labels]:
            table[label] = output
    return table, expression[-1]


def zoom_width(
    width: float, field: str | None = None, widths: Mapping[str, float] | None = None
) -> list[Any]:
    """A line width that scales with the zoom (ZOOM_SCALE); with `field` and `widths`, each
    value of the attribute takes its own width and every other value takes `width`."""
    stops: list[Any] = []
    for zoom, factor in ZOOM_SCALE:
        if field and widths:
            table = {value: _round(w * factor) for value, w in widths.items()}
            stops += [zoom, match_expression(field, table, _round(width * factor))]
        else:
            stops += [zoom, _round(width * factor)]
    return ["interpolate", ["linear"], ["zoom"], *stops]


def width_at(expression: Any, zoom: float = 10) -> float | None:
    """The width a constant or a zoom interpolation of constants gives at `zoom`, else None."""
    if isinstance(expression, int | float) and not isinstance(expression, bool):
        return float(expression)
    if not (isinstance(expression, list) and expression[:1] == ["interpolate"]):
        return None
    stops = list(zip(expression[3::2], expression[4::2], strict=True))
    if not all(isinstance(out, int | float) for _, out in stops):
        return None
    if zoom <= stops[0][0]:
        return float(stops[0][1])
    for (z0, w0), (z1, w1) in pairwise(stops):
        if z0 <= zoom <= z1:
            return float(w0 + (w1 - w0) * (zoom - z0) / (z1 - z0))
    return float(stops[-1][1])


def _round(value: float) -> float:
    return round(value, 2)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
