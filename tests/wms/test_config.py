"""The generated MapProxy configuration: a layer and two caches per audience layer and for the
whole map, caches in the release's own folder, nothing of another audience."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from publish.wms.config import (
    CGCS2000,
    WEBMERCATOR,
    WmsConfigError,
    default_template,
    load_template,
    mapproxy_config,
    prune_caches,
    release_config,
)


def test_public_configuration(full_release: Any, tmp_path: Path) -> None:
    manifest = json.loads((full_release.path / "manifest.json").read_bytes())
    public = manifest["audiences"]["public"]["layers"]
    doc = mapproxy_config(full_release.path, "public", tmp_path / "cache")
    assert [layer["name"] for layer in doc["layers"]] == ["plan", *public]
    assert "spxm" not in json.dumps(doc)
    assert "onemap" not in doc
    assert set(doc["grids"]) >= {WEBMERCATOR, CGCS2000}
    for layer in doc["layers"]:
        name = layer["name"]
        assert layer["sources"] == [name]
        assert layer["tile_sources"] == [name, f"{name}_{CGCS2000}"]
        assert doc["caches"][name]["grids"] == [WEBMERCATOR]
        assert doc["caches"][f"{name}_{CGCS2000}"]["sources"] == [name]
        source = doc["sources"][f"{name}_render"]
        assert source["audience"] == "public" and source["layer"] == name
        assert source["coverage"]["srs"] == "EPSG:4326"
    assert doc["globals"]["cache"]["base_dir"] == str(tmp_path / "cache")
    titles = {layer["name"]: layer["title"] for layer in doc["layers"]}
    assert titles["stbhhx"].startswith("生态保护红线")


def test_internal_configuration_has_every_layer(full_release: Any, tmp_path: Path) -> None:
    doc = mapproxy_config(full_release.path, "internal", tmp_path)
    assert "spxm" in {layer["name"] for layer in doc["layers"]}


def test_written_per_release_and_pruned(full_release: Any, tmp_path: Path) -> None:
    path = release_config(tmp_path, full_release.path, "public")
    assert path == tmp_path / "raster" / full_release.release_id / "public" / "mapproxy.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["layers"][0]["name"] == "plan"
    stale = tmp_path / "raster" / "20200101T000000Z-00000000"
    stale.mkdir()
    assert prune_caches(tmp_path, keep={full_release.release_id}) == [stale.name]
    assert path.is_file()


def test_template_is_checked(tmp_path: Path) -> None:
    assert set(load_template()["grids"]) >= {WEBMERCATOR, CGCS2000}
    assert load_template(default_template()) == load_template()
    bad = tmp_path / "mapproxy.yaml"
    bad.write_text("services: {}\n", encoding="utf-8")
    with pytest.raises(WmsConfigError, match="grids"):
        load_template(bad)
