"""build_style on the sample city's catalog: structure, audience, order, national colours."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from publish.catalog import Catalog, load_catalog
from publish.sources import read_layer
from publish.standards import colour_for, colour_table, land_use_classes
from publish.styles import build_style, validate_style
from publish.styles.expressions import match_table, width_at
from publish.styles.symbols import load_symbols
from tests.conftest import SHARED

GLYPHS = "/fonts/{fontstack}/{range}.pbf"
PACKAGED = Path(__file__).resolve().parents[2] / "publish" / "standards"


@pytest.fixture(scope="module")
def catalog(sample_dir: Path) -> Catalog:
    return load_catalog(sample_dir / "layers.yml")


def style_for(catalog: Catalog, audience: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("glyphs_url", GLYPHS)
    return build_style(catalog, audience, tiles_url=f"/tiles/{audience}.json", **kwargs)


def layers_of(style: dict[str, Any], catalog_id: str) -> list[dict[str, Any]]:
    return [layer for layer in style["layers"] if layer.get("source-layer") == catalog_id]


@pytest.mark.parametrize("audience", ["public", "internal"])
def test_the_style_is_structurally_valid(catalog: Catalog, audience: str) -> None:
    style = style_for(catalog, audience, sprite_url="/sprites/plan")
    style = json.loads(json.dumps(style))  # what a client receives
    ids = [spec.id for spec in catalog.for_audience(audience)]
    assert validate_style(style, ids) == []
    assert style["version"] == 8
    assert style["sources"] == {"plan": {"type": "vector", "url": f"/tiles/{audience}.json"}}
    assert (style["glyphs"], style["sprite"]) == (GLYPHS, "/sprites/plan")
    names = [layer["id"] for layer in style["layers"]]
    assert len(names) == len(set(names))
    assert style["layers"][0]["type"] == "background"
    for layer in style["layers"][1:]:
        assert layer["source"] in style["sources"]
        spec = catalog.layer(layer["metadata"]["onemap:layer"])
        assert spec.id in ids
        if layer["source-layer"] == "labels":  # an admin layer's names, from its label points
            assert (spec.role, layer["type"]) == ("admin", "symbol")
            assert layer["filter"] == ["==", ["get", "layer"], spec.id]
        else:
            assert layer["source-layer"] == spec.id
        assert layer["metadata"]["onemap:group"] == spec.group
        assert layer["metadata"]["onemap:title"] == {"zh": spec.title_zh, "en": spec.title_en}
        assert layer.get("minzoom", 0) >= spec.minzoom
    # every catalog layer of the audience is drawn, from its own tiles
    assert {layer.get("source-layer") for layer in style["layers"][1:]} == {*ids, "labels"}


def test_the_public_style_names_no_internal_layer(catalog: Catalog) -> None:
    internal = [spec.id for spec in catalog.layers if not spec.is_public]
    assert internal == ["spxm"]
    public = json.dumps(style_for(catalog, "public"), ensure_ascii=False)
    staff = json.dumps(style_for(catalog, "internal"), ensure_ascii=False)
    for layer_id in internal:
        assert layer_id not in public
        assert f'"source-layer": "{layer_id}"' in staff


def test_layers_are_drawn_in_the_planning_map_order(catalog: Catalog) -> None:
    style = style_for(catalog, "internal")
    drawn = [(x["metadata"]["onemap:layer"], x["type"]) for x in style["layers"][1:]]
    first: dict[str, int] = {}
    for index, (layer_id, kind) in enumerate(drawn):
        if kind != "symbol":
            first.setdefault(layer_id, index)
    order = ["dltb", "ydyh", "ghfq", "hl", "dl", "zrbhd", "spxm", "xzq_xiang", "xzq_xian"]
    order += ["yjjbnt", "stbhhx", "czkfbj", "cun"]
    assert sorted(first, key=first.__getitem__) == order
    labels = [layer_id for layer_id, kind in drawn if kind == "symbol"]
    assert labels == ["cun", "xzq_xiang", "xzq_xian"]  # the county names placed first
    assert drawn.index(("cun", "symbol")) > max(first.values())


def test_one_surface_is_visible_and_viewers_switch_between_them(catalog: Catalog) -> None:
    style = style_for(catalog, "public")
    for layer_id, visible in (("dltb", "none"), ("ydyh", "none"), ("ghfq", "visible")):
        for layer in layers_of(style, layer_id):
            assert layer["layout"]["visibility"] == visible
            assert layer["metadata"]["onemap:exclusive"] == "surface"


def land_use_table(style: dict[str, Any], layer_id: str, field: str) -> tuple[dict, str]:
    (fill,) = [layer for layer in layers_of(style, layer_id) if layer["type"] == "fill"]
    colour = fill["paint"]["fill-color"]
    assert colour[1] == ["get", field]
    return match_table(colour)


def national_table(folder: Path) -> dict[str, str]:
    """code → colour from the CSV; 0702 and 0704 have none there and take their sibling's
    (0701's, 0703's), as DOMAIN.md and the drawing convention say."""
    with (folder / "ydyh_classes_with_colours.csv").open(encoding="utf-8") as handle:
        rows = {row["code"]: row["hex"].upper() for row in csv.DictReader(handle)}
    assert rows["0702"] == rows["0704"] == ""
    rows.update({"0702": rows["0701"], "0704": rows["0703"]})
    return {code: colour for code, colour in rows.items() if colour}


def appendix_b(folder: Path) -> dict[str, str]:
    with (folder / "zhitu_appendixB_colours.csv").open(encoding="utf-8") as handle:
        return {row["applies_to_code"]: row["hex"].upper() for row in csv.DictReader(handle)}


@pytest.mark.parametrize(("layer_id", "field"), [("ydyh", "YDYHFLDM"), ("dltb", "DLBM")])
def test_every_land_use_colour_is_the_national_one(
    catalog: Catalog, layer_id: str, field: str
) -> None:
    table, fallback = land_use_table(style_for(catalog, "public"), layer_id, field)
    coloured = {code for code in land_use_classes() if colour_for(code)}
    assert set(table) == coloured  # every coloured code of the classification, nothing else
    assert len(table) == 171 and set(land_use_classes()) - coloured == {"07", "08", "10", "14"}
    for code, colour in table.items():
        assert colour == colour_for(code)
    folders = [PACKAGED, SHARED / "data" / "standards"]
    for folder in [f for f in folders if f.is_dir()]:
        assert table == national_table(folder)
        for code, colour in appendix_b(folder).items():  # the table's own 39 entries
            assert table[code] == colour
    assert appendix_b(PACKAGED) == colour_table()
    # a code outside the classification falls back to the neutral colour
    assert "0799" not in table and fallback == load_symbols().fallback
    assert fallback not in set(colour_table().values())
    # inherited colours: 0702 as 0701, 0704 as 0703, third level as its parent
    assert table["0702"] == table["0701"] == table["070102"] == "#FFFF2D"
    assert table["0704"] == table["0703"] == "#FFD380"


def test_the_sample_data_is_painted_in_its_own_colours(catalog: Catalog) -> None:
    style = style_for(catalog, "public")
    table, fallback = land_use_table(style, "ydyh", "YDYHFLDM")
    codes = set(read_layer(catalog.layer("ydyh"), columns=["YDYHFLDM"])["YDYHFLDM"])
    assert len(codes) > 20
    assert {code: table.get(code, fallback) for code in codes} == {
        code: colour_for(code) for code in codes
    }
    (zones,) = [layer for layer in layers_of(style, "ghfq") if layer["type"] == "fill"]
    zone_table, _ = match_table(zones["paint"]["fill-color"])
    zone_codes = set(read_layer(catalog.layer("ghfq"), columns=["GHFQDM"])["GHFQDM"])
    assert zone_codes == set(zone_table)
    assert zone_table == {z.code: z.colour for z in load_symbols().zones}


def paint(style: dict[str, Any], layer_id: str, kind: str) -> dict[str, Any]:
    (layer,) = [x for x in layers_of(style, layer_id) if x["type"] == kind]
    return layer["paint"]


def test_control_lines_and_boundaries_take_their_conventional_symbols(catalog: Catalog) -> None:
    style = style_for(catalog, "public")
    red_fill, red_line = paint(style, "stbhhx", "fill"), paint(style, "stbhhx", "line")
    assert red_fill["fill-color"] == red_line["line-color"] == "#E60000"
    assert 0 < red_fill["fill-opacity"] < 0.5
    farm_fill, farm_line = paint(style, "yjjbnt", "fill"), paint(style, "yjjbnt", "line")
    assert farm_fill["fill-color"].startswith("#FF") and farm_line["line-color"] == "#D9A400"
    urban = layers_of(style, "czkfbj")
    assert [layer["type"] for layer in urban] == ["line"]  # no fill
    assert urban[0]["paint"]["line-color"] == "#B000B0" and urban[0]["paint"]["line-dasharray"]
    county, township = paint(style, "xzq_xian", "line"), paint(style, "xzq_xiang", "line")
    assert width_at(county["line-width"]) > width_at(township["line-width"])  # type: ignore[operator]
    roads = paint(style, "dl", "line")
    assert match_table(roads["line-color"])[0]["高速公路"] == "#DD7A33"
    assert paint(style, "hl", "line")["line-color"] == "#338EC0"


def test_labels_use_the_name_fields_and_need_glyphs(catalog: Catalog) -> None:
    style = style_for(catalog, "public")
    symbols = [x for x in style["layers"] if x["type"] == "symbol"]
    labels = {x["metadata"]["onemap:layer"]: x["layout"] for x in symbols}
    assert labels["cun"]["text-field"] == ["get", "CJMC"]
    # areas are named once each, from their label points (publish.features.labels)
    assert labels["xzq_xian"]["text-field"] == ["get", "name"]
    assert [x["source-layer"] for x in symbols] == ["cun", "labels", "labels"]
    english = style_for(catalog, "public", lang="en")
    (county,) = [x for x in english["layers"] if x["id"] == "xzq_xian-label"]
    assert county["layout"]["text-field"] == ["coalesce", ["get", "name_en"], ["get", "name"]]
    assert county["filter"] == ["==", ["get", "layer"], "xzq_xian"]
    assert validate_style(english, [s.id for s in catalog.for_audience("public")]) == []
    assert all(layout["text-font"] == ["Noto Sans Regular"] for layout in labels.values())
    assert labels["xzq_xian"]["text-size"] > labels["xzq_xiang"]["text-size"]
    bare = style_for(catalog, "public", glyphs_url=None)
    assert "glyphs" not in bare and "sprite" not in bare
    assert not [x for x in bare["layers"] if x["type"] == "symbol"]
    assert validate_style(bare) == []


def test_lang_and_audience_are_checked(catalog: Catalog) -> None:
    english = style_for(catalog, "public", lang="en")
    assert english["name"] == "Territorial spatial plan One Map (public)"
    assert style_for(catalog, "public")["name"] == "张家界市国土空间规划一张图（公众版）"
    with pytest.raises(ValueError, match="audience"):
        style_for(catalog, "everyone")
    with pytest.raises(ValueError, match="lang"):
        style_for(catalog, "public", lang="fr")


def test_an_area_label_layer_must_filter_the_labels_layer_to_its_own_layer(
    catalog: Catalog,
) -> None:
    style = style_for(catalog, "public")
    ids = [s.id for s in catalog.for_audience("public")]
    (county,) = [x for x in style["layers"] if x["id"] == "xzq_xian-label"]
    county["filter"] = ["==", ["get", "layer"], "xzq_xiang"]  # another layer's points
    assert any("labels" in p and "not a catalog layer" in p for p in validate_style(style, ids))
    county["filter"] = ["==", ["get", "layer"], "xzq_xian"]
    county["metadata"]["onemap:layer"] = "spxm"  # an internal layer: not the public's
    assert validate_style(style, ids)
