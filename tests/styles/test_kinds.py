"""How catalog layers of role 'other' are recognised and drawn, on small hand-made catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from publish.catalog import load_catalog
from publish.styles import build_legend, build_style, kind_of, load_symbols, validate_style


def catalog_of(tmp_path: Path, *layers: dict[str, Any]) -> Any:
    path = tmp_path / "layers.yml"
    doc = {"layers": [{"source": "x.gpkg", "access": "public", **layer} for layer in layers]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return load_catalog(path)


def other(layer_id: str, geometry: str | None, fields: list[str], **extra: Any) -> dict:
    entry = {"id": layer_id, "title": {"zh": layer_id, "en": layer_id}, "role": "other"}
    entry.update(fields=fields, **extra)
    if geometry:
        entry["geometry"] = geometry
    return entry


def test_kinds_come_from_standard_fields_then_id_patterns(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path,
        other("shuixi", "line", ["BSM", "HLMC"]),  # a river by its fields, whatever its id
        other("gonglu", "line", ["BSM", "LXDJ"]),
        other("main_river", "line", ["BSM", "NAME"]),  # no standard field: by id pattern
        other("pipes", "line", ["BSM"]),  # neither: a generic line
        other("hl_points", "point", ["BSM"]),  # a river id, but points: generic
    )
    symbols = load_symbols()
    kinds = {spec.id: kind_of(spec, symbols).name for spec in catalog.layers}
    assert kinds == {
        "shuixi": "river",
        "gonglu": "road",
        "main_river": "river",
        "pipes": "generic_line",
        "hl_points": "generic_point",
    }


def test_undeclared_geometry_and_extra_admin_levels_still_draw(tmp_path: Path) -> None:
    admin = {"role": "admin", "fields": ["XZQDM", "XZQMC"], "name_field": "XZQMC"}
    catalog = catalog_of(
        tmp_path,
        {"id": "shi", "title": "市", **admin},
        {"id": "xian", "title": "县", **admin},
        {"id": "xiang", "title": "乡", **admin},
        {"id": "cun", "title": "村", **admin},
        other("misc", None, ["BSM", "MC", "MC_EN"], name_field="MC"),
    )
    style = build_style(catalog, "public", tiles_url="/t.json", glyphs_url="/g", lang="en")
    assert validate_style(style, [s.id for s in catalog.layers]) == []
    ids = [layer["id"] for layer in style["layers"]]
    # lower levels first; the first admin layer takes the heaviest line, levels beyond
    # basemap.yml's list take its last symbol
    assert ids.index("cun-line") < ids.index("xiang-line") < ids.index("xian-line")
    widths = {x["id"]: x["paint"]["line-width"] for x in style["layers"] if x["type"] == "line"}
    assert widths["cun-line"] == widths["xiang-line"] == widths["xian-line"] != widths["shi-line"]
    assert {"misc-fill", "misc-line", "misc-circle", "misc-label"} <= set(ids)
    (label,) = [x for x in style["layers"] if x["id"] == "misc-label"]
    assert label["layout"]["text-field"] == ["coalesce", ["get", "MC_EN"], ["get", "MC"]]
    legend = {item["layer"]: item for item in build_legend(style)}
    assert [e["kind"] for e in legend["misc"]["entries"]] == ["fill", "point"]
