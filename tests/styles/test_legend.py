"""build_legend reads the legend back from the style: it can never disagree with the paint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from publish.catalog import Catalog, load_catalog
from publish.standards import land_use_classes
from publish.styles import build_legend, build_style
from publish.styles.expressions import is_match, match_table
from publish.styles.symbols import load_symbols


@pytest.fixture(scope="module")
def style(sample_dir: Path) -> dict[str, Any]:
    catalog: Catalog = load_catalog(sample_dir / "layers.yml")
    return build_style(catalog, "internal", tiles_url="/tiles/internal.json", glyphs_url="/g")


def paint_colours(style: dict[str, Any]) -> set[str]:
    """Every colour the style's paint can produce."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if is_match(value):
            table, fallback = match_table(value)
            for output in [*table.values(), fallback]:
                walk(output)
        elif isinstance(value, str) and value.startswith("#"):
            found.add(value)

    for layer in style["layers"]:
        for name, value in (layer.get("paint") or {}).items():
            if name.endswith("-color"):
                walk(value)
    return found


def by_layer(style: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["layer"]: item for item in build_legend(style)}


def test_every_legend_colour_is_painted_by_its_own_layer(style: dict[str, Any]) -> None:
    legend = build_legend(style)
    assert paint_colours(style) >= {
        colour
        for item in legend
        for entry in item["entries"]
        for colour in (entry["colour"], entry.get("outline"))
        if colour
    }
    for item in legend:
        own = paint_colours(
            {"layers": [x for x in style["layers"] if x.get("source-layer") == item["layer"]]}
        )
        for entry in item["entries"]:
            assert entry["colour"] in own
            assert entry["kind"] in ("fill", "line", "point")
            assert entry["label_zh"] and entry["label_en"]


def test_every_catalog_layer_has_entries_and_the_top_comes_first(style: dict[str, Any]) -> None:
    legend = build_legend(style)
    drawn = list(dict.fromkeys(x["metadata"]["onemap:layer"] for x in style["layers"][1:]))
    assert [item["layer"] for item in legend] == list(reversed(drawn))
    assert all(item["entries"] for item in legend)
    visible = {item["layer"]: item["visible"] for item in legend}
    assert (visible["ghfq"], visible["ydyh"], visible["dltb"]) == (True, False, False)


def test_land_use_legend_gives_each_colour_of_each_first_level_class(
    style: dict[str, Any],
) -> None:
    entries = by_layer(style)["ydyh"]["entries"]
    (fill,) = [x for x in style["layers"] if x["id"] == "ydyh-fill"]
    table, fallback = match_table(fill["paint"]["fill-color"])
    classes = land_use_classes()
    *coded, last = entries
    assert last["colour"] == fallback and "values" not in last
    # one entry per (first-level class, colour), covering every painted code exactly once
    pairs = [(entry["values"][0][:2], entry["colour"]) for entry in coded]
    assert len(pairs) == len(set(pairs)) == 39
    assert sorted(code for entry in coded for code in entry["values"]) == sorted(table)
    for entry in coded:
        assert {table[code] for code in entry["values"]} == {entry["colour"]}
        heads = [c for c in entry["values"] if classes[c].parent not in entry["values"]]
        assert entry["label_zh"] == "、".join(classes[c].name for c in heads)
    names = {entry["label_zh"]: entry["colour"] for entry in coded}
    assert names["耕地"] == "#F5F8DC" and names["工业用地"] == "#BB9674"
    assert names["城镇住宅用地、城镇社区服务设施用地"] == "#FFFF2D"
    english = {entry["label_en"] for entry in coded}
    assert "Industrial land" in english


def test_zones_lines_and_outlines_read_back(style: dict[str, Any]) -> None:
    legend = by_layer(style)
    zones = load_symbols().zones
    assert [(e["label_zh"], e["colour"]) for e in legend["ghfq"]["entries"]] == [
        (z.zh, z.colour) for z in zones
    ]
    (red,) = legend["stbhhx"]["entries"]
    assert (red["kind"], red["colour"], red["outline"]) == ("fill", "#E60000", "#E60000")
    assert red["opacity"] == pytest.approx(0.12)
    (urban,) = legend["czkfbj"]["entries"]
    assert urban["kind"] == "line" and urban["dash"] == [4.0, 2.0]
    county, township = legend["xzq_xian"]["entries"][0], legend["xzq_xiang"]["entries"][0]
    assert county["width"] > township["width"]
    roads = [(e["label_zh"], e["colour"]) for e in legend["dl"]["entries"]]
    assert roads[0] == ("高速公路", "#DD7A33") and roads[-1][0] == "其他道路"
    assert [e["kind"] for e in legend["cun"]["entries"]] == ["point"]


def test_a_changed_paint_changes_the_legend(style: dict[str, Any]) -> None:
    edited = {**style, "layers": [dict(x) for x in style["layers"]]}
    for layer in edited["layers"]:
        if layer["id"] == "stbhhx-fill":
            layer["paint"] = {**layer["paint"], "fill-color": "#123456"}
    assert by_layer(edited)["stbhhx"]["entries"][0]["colour"] == "#123456"
