"""publish.styles.expressions: match expressions written and read back, zoom widths."""

from __future__ import annotations

import pytest

from publish.styles.expressions import (
    ZOOM_SCALE,
    is_match,
    match_expression,
    match_table,
    width_at,
    zoom_width,
)


def test_labels_sharing_an_output_form_one_branch_and_read_back() -> None:
    table = {"0101": "#F5F8DC", "0102": "#F5F8DC", "0701": "#FFFF2D"}
    expression = match_expression("YDYHFLDM", table, "#DDDDDD")
    assert expression == [
        "match",
        ["get", "YDYHFLDM"],
        ["0101", "0102"],
        "#F5F8DC",
        "0701",
        "#FFFF2D",
        "#DDDDDD",
    ]
    assert is_match(expression)
    assert match_table(expression) == (table, "#DDDDDD")


def test_match_table_rejects_other_expressions() -> None:
    with pytest.raises(ValueError, match="not a match"):
        match_table(["get", "X"])


def test_widths_scale_with_the_zoom_and_classes_take_their_own() -> None:
    plain = zoom_width(1.0)
    assert plain[:3] == ["interpolate", ["linear"], ["zoom"]]
    assert plain[3:] == [v for zoom, factor in ZOOM_SCALE for v in (zoom, factor)]
    assert width_at(plain, 10) == 1.0
    assert width_at(plain, 12) == pytest.approx(1.5)
    assert width_at(plain, 0) == ZOOM_SCALE[0][1]
    assert width_at(plain, 22) == ZOOM_SCALE[-1][1]

    classed = zoom_width(0.5, "LXDJ", {"高速公路": 2.0})
    at_10 = classed[3 + 2 * [z for z, _ in ZOOM_SCALE].index(10) + 1]
    assert match_table(at_10) == ({"高速公路": 2.0}, 0.5)
    assert width_at(classed) is None  # not a single number: the legend gives no width
    assert width_at(2) == 2.0
