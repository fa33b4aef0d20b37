"""The catalog: every error names the file, the layer and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from publish.catalog import load_catalog
from publish.domain import DEFAULT_CRS
from publish.errors import CatalogError

GOOD = {
    "id": "stbhhx",
    "title": {"zh": "生态保护红线", "en": "Ecological protection red line"},
    "source": "red.gpkg",
    "access": "public",
    "role": "red_line",
    "fields": ["BSM", "MJ"],
}


def write(tmp_path: Path, *layers: dict[str, object]) -> Path:
    path = tmp_path / "layers.yml"
    path.write_text(yaml.safe_dump({"layers": list(layers)}, allow_unicode=True), "utf-8")
    return path


def test_the_fields_indexed_for_queries(tmp_path: Path) -> None:
    entry = {**GOOD, "role": "land_use", "fields": ["BSM", "DLBM", "ZLDWMC", "XZQDM", "MJ"]}
    entry.update(code_field="DLBM", name_field="ZLDWMC", indexed_fields=["MJ", "DLBM", "XZQDM"])
    spec = load_catalog(write(tmp_path, entry)).layer("stbhhx")
    assert spec.query_indexes == ("DLBM", "ZLDWMC", "MJ", "XZQDM")  # once each
    assert load_catalog(write(tmp_path, GOOD)).layer("stbhhx").query_indexes == ()


def test_a_good_entry_loads_with_defaults(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD))
    spec = catalog.layer("stbhhx")
    assert spec.source == (tmp_path / "red.gpkg").resolve()
    assert (spec.minzoom, spec.maxzoom, spec.geometry, spec.id_field) == (0, 14, "polygon", "BSM")
    assert catalog.for_audience("public") == (spec,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"access": "everyone"}, "key 'access' must be one of public, internal"),
        ({"role": "redline"}, "key 'role' must be one of"),
        ({"id": "Red-Line"}, "key 'id' must be snake_case"),
        ({"id": "gpkg_points"}, "key 'id' is reserved"),
        ({"id": "indicators"}, "key 'id' is reserved"),
        ({"id": "plan_areas"}, "key 'id' is reserved"),
        ({"id": "indicators_map"}, "key 'id' is reserved"),
        ({"fields": "BSM"}, "key 'fields' must be a list"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"crs": "EPSG:999999"}, "key 'crs' is not a CRS"),
        ({"encoding": "klingon"}, "key 'encoding' is not a known text encoding"),
        ({"minzoom": 15, "maxzoom": 10}, "key 'minzoom' must not exceed 'maxzoom'"),
        ({"maxzoom": 30}, "key 'maxzoom' must be an integer from 0 to 16"),
        ({"role": "land_use"}, "key 'code_field' is required for role 'land_use'"),
        ({"indexed_fields": "MJ"}, "key 'indexed_fields' must be a list of field names"),
        ({"indexed_fields": ["XZQDM"]}, "key 'indexed_fields' names 'XZQDM', not one of the"),
        ({"geometry": "point"}, "key 'geometry' must be 'polygon' for role 'red_line'"),
        ({"title": {"zh": "红线"}}, "key 'title' must have 'zh' and 'en'"),
        ({"group": {"zh": "三区三线"}}, "key 'group' must be a string or have 'zh' and 'en'"),
        ({"field_titles": ["BSM"]}, "key 'field_titles' must map field names"),
        ({"field_titles": {"XMMC": "项目名称"}}, "key 'field_titles' names 'XMMC', which is not"),
        ({"field_titles": {"MJ": {"en": "Area"}}}, "key 'field_titles': 'MJ' must be a string"),
    ],
)
def test_errors_name_file_layer_and_key(tmp_path: Path, change: dict, message: str) -> None:
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    text = str(info.value)
    assert str(path) in text and message in text
    layer_id = change.get("id", "stbhhx")
    assert repr(layer_id) in text or "layer #1" in text


def test_missing_key_duplicate_id_and_bad_yaml(tmp_path: Path) -> None:
    entry = {k: v for k, v in GOOD.items() if k != "source"}
    with pytest.raises(CatalogError, match="layer 'stbhhx': key 'source' is required"):
        load_catalog(write(tmp_path, entry))
    with pytest.raises(CatalogError, match="key 'id' is not unique"):
        load_catalog(write(tmp_path, GOOD, GOOD))
    bad = tmp_path / "bad.yml"
    bad.write_text("layers: [\n", "utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(bad)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.yml")


def test_gcj02_is_accepted(tmp_path: Path) -> None:
    spec = load_catalog(write(tmp_path, {**GOOD, "crs": "GCJ-02"})).layer("stbhhx")
    assert spec.crs == "GCJ-02"


def test_group_and_field_titles(tmp_path: Path) -> None:
    """A group and a field may be titled in both languages; a field the catalog does not title
    takes the database standard's title, and a field neither knows is called by its name."""
    entry = {
        **GOOD,
        "group": {"zh": "三区三线", "en": "Three zones, three lines"},
        "fields": ["BSM", "HXMC", "BZ", "MJ"],
        "field_titles": {"MJ": {"zh": "核定面积", "en": "Certified area"}, "HXMC": "红线名"},
    }
    spec = load_catalog(write(tmp_path, entry)).layer("stbhhx")
    assert (spec.group, spec.group_en) == ("三区三线", "Three zones, three lines")
    assert spec.field_title("MJ") == ("核定面积", "Certified area")
    assert spec.field_title("HXMC") == ("红线名", "红线名")
    assert spec.field_title("BSM") == ("标识码", "Identifier")
    assert spec.field_title("BZ") == ("BZ", "BZ")
    plain = load_catalog(write(tmp_path, {**GOOD, "group": "三区三线"})).layer("stbhhx")
    assert (plain.group, plain.group_en) == ("三区三线", "三区三线")
    assert plain.field_title("MJ") == ("面积", "Area")


def write_city(tmp_path: Path, city: object) -> Path:
    path = tmp_path / "layers.yml"
    doc = {"city": city, "layers": [GOOD]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


def test_the_city_crs(tmp_path: Path) -> None:
    """The working CRS is the city block's `crs` (as EPSG:<code>), EPSG:4546 when absent."""
    assert load_catalog(write(tmp_path, GOOD)).crs == DEFAULT_CRS == "EPSG:4546"
    assert load_catalog(write_city(tmp_path, {"code": "430800"})).crs == "EPSG:4546"
    for given in ("EPSG:4547", "epsg:4547", "http://www.opengis.net/def/crs/EPSG/0/4547"):
        assert load_catalog(write_city(tmp_path, {"crs": given})).crs == "EPSG:4547"


@pytest.mark.parametrize(
    ("city", "message"),
    [
        (
            {"crs": "EPSG:4326"},
            "city: key 'crs' must be a projected CRS in metres (got 'EPSG:4326')",
        ),
        ({"crs": "EPSG:2229"}, "city: key 'crs' must be a projected CRS in metres"),  # US feet
        ({"crs": "EPSG:999999"}, "city: key 'crs' is not a CRS pyproj knows"),
        ({"crs": 4546}, "city: key 'crs' must be a string"),
        ({"crs": "ESRI:102012"}, "city: key 'crs' must be named by its EPSG code"),
        ("张家界市", "city: expected a mapping"),
    ],
)
def test_a_bad_city_crs_names_file_and_key(tmp_path: Path, city: object, message: str) -> None:
    path = write_city(tmp_path, city)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_the_document_is_the_catalog_as_loaded_with_its_crs(tmp_path: Path) -> None:
    path = write_city(tmp_path, {"code": "430800", "name": "张家界市"})
    catalog = load_catalog(path)
    doc = catalog.document()
    assert doc["city"] == {"code": "430800", "name": "张家界市", "crs": "EPSG:4546"}
    assert doc["layers"] == [GOOD]
    again = tmp_path / "again" / "layers.yml"
    again.parent.mkdir()
    again.write_text(catalog.document_text(), "utf-8")
    reloaded = load_catalog(again)
    assert reloaded.crs == "EPSG:4546" and reloaded.document() == doc
