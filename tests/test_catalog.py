"""The catalog: every error names the file, the layer and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from publish.catalog import load_catalog
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
        ({"fields": "BSM"}, "key 'fields' must be a list"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"crs": "EPSG:999999"}, "key 'crs' is not a CRS"),
        ({"encoding": "klingon"}, "key 'encoding' is not a known text encoding"),
        ({"minzoom": 15, "maxzoom": 10}, "key 'minzoom' must not exceed 'maxzoom'"),
        ({"maxzoom": 30}, "key 'maxzoom' must be an integer from 0 to 16"),
        ({"role": "land_use"}, "key 'code_field' is required for role 'land_use'"),
        ({"geometry": "point"}, "key 'geometry' must be 'polygon' for role 'red_line'"),
        ({"title": {"zh": "红线"}}, "key 'title' must have 'zh' and 'en'"),
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
