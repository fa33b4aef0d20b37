"""The sample built end to end: the release's files read back."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pyogrio
import pytest

from publish.catalog import load_catalog
from publish.features.labels import LABEL_FIELDS
from publish.gpkg.schema import gpkg_has_rtree
from publish.pipeline.build import BuildResult
from publish.release.manifest import read_manifest
from publish.release.verify import verify_release
from publish.sources import read_layer
from publish.tiles.archive import Archive, verify
from publish.tiles.check import count_features_at_zoom
from tests.mvt import decoded_tiles


def test_current_points_at_a_complete_release(built: BuildResult) -> None:
    out = built.path.parents[1]
    assert os.readlink(out / "current") == f"releases/{built.release_id}"
    assert verify_release(built.path) == []
    manifest = read_manifest(built.path)
    assert manifest["release"] == built.release_id
    assert set(manifest["tools"]) >= {"tippecanoe", "gdal", "pygeoapi"}
    assert manifest["review"]["ok"] and manifest["review"]["by_severity"]["blocking"] == 0
    for rel in (
        "review.json",
        "review.html",
        "catalog.yml",
        "ogc/public.yml",
        "styles/public.json",
    ):
        assert rel in manifest["files"], rel
    assert not (out / ".staging").exists() or not any((out / ".staging").iterdir())


def test_manifest_sha256_detects_tampering(built: BuildResult, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built.path, copy)
    assert verify_release(copy) == []
    with open(copy / "review.json", "a", encoding="utf-8") as f:
        f.write(" ")
    (copy / "styles" / "public.json").write_text("{}", encoding="utf-8")
    problems = verify_release(copy)
    assert any("review.json" in p for p in problems)
    assert any("styles/public.json" in p for p in problems)


@pytest.mark.parametrize("audience", ["public", "internal"])
def test_archive_layers_per_audience(built: BuildResult, sample_dir: Path, audience: str) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    path = built.path / "tiles" / f"{audience}.pmtiles"
    assert verify(path) == []
    want = {s.id for s in catalog.for_audience(audience)}
    # besides the audience's layers, those the release's outputs add: the label points of its
    # administrative areas and the plan conflicts
    extra = set(read_manifest(built.path)["audiences"][audience]["tiles"]["extra_layers"])
    assert extra == {"labels", "conflicts"}
    with Archive(path) as archive:
        layers = {v["id"] for v in archive.metadata()["vector_layers"]}
        assert layers == want | extra
        assert archive.maxzoom == max(s.maxzoom for s in catalog.layers)
        west, south, east, north = archive.bounds
        assert 109.5 < west < 110 and 28.7 < south < 29 and 111 < east < 111.6 and 29.6 < north < 30
    # decoded tiles hold exactly the audience's layers and only published fields
    fields = {s.id: set(s.fields) for s in catalog.layers} | {"labels": set(LABEL_FIELDS)}
    seen: set[str] = set()
    for _x, _y, tile in decoded_tiles(path, 12):
        for name, layer in tile.items():
            if name in extra:
                continue
            assert name in want
            seen.add(name)
            for feature in layer["features"]:
                assert set(feature["properties"]) <= fields[name], (name, feature["properties"])
    assert seen >= {s.id for s in catalog.for_audience(audience) if s.minzoom <= 12}
    if audience == "public":
        assert "spxm" not in want
    else:
        assert "spxm" in seen


def test_unpublished_fields_never_in_tiles(built: BuildResult) -> None:
    import gzip

    for audience in ("public", "internal"):
        with Archive(built.path / "tiles" / f"{audience}.pmtiles") as archive:
            for *_zxy, data in archive.iter_tiles():
                text = gzip.decompress(data)
                # attribute keys of fields the catalog does not publish
                for secret in (b"CBJYQR", b"QSDWMC", b"QSXZ", b"LXDH", b"LXR"):
                    assert secret not in text
                if audience == "public":
                    assert b"spxm" not in text


def test_every_feature_at_its_maxzoom(built: BuildResult, sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    manifest = read_manifest(built.path)
    for spec in catalog.layers:
        source = len(read_layer(spec, columns=[]))
        assert manifest["layers"][spec.id]["features"] == source
        audience = "public" if spec.is_public else "internal"
        path = built.path / "tiles" / f"{audience}.pmtiles"
        assert count_features_at_zoom(path, spec.id, spec.maxzoom) == source, spec.id


def test_feature_store(built: BuildResult, sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    manifest = read_manifest(built.path)
    for audience in ("public", "internal"):
        gpkg = built.path / "features" / f"{audience}.gpkg"
        names = {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}
        want = {s.id for s in catalog.for_audience(audience)}
        # the area figures, the monitoring results and its county map beside the layers
        assert names - {"plan_areas", "indicators", "indicators_map"} == want
        for layer_id in want:
            assert gpkg_has_rtree(gpkg, layer_id), layer_id
            info = pyogrio.read_info(gpkg, layer=layer_id)
            assert info["features"] == manifest["layers"][layer_id]["features"]
            assert "area_m2" in list(info["fields"])
            assert pyogrio.read_info(gpkg, layer=layer_id)["crs"] in ("EPSG:4326", "OGC:CRS84")
        with sqlite3.connect(gpkg) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_indicators(built: BuildResult) -> None:
    manifest = read_manifest(built.path)
    city = manifest["indicators"]["public"]["city"]
    assert city["red_line"]["area_km2"] == pytest.approx(2964.15, rel=0.005)
    assert city["red_line"]["share"] == pytest.approx(0.3109, abs=0.001)
    table = pyogrio.read_dataframe(built.path / "features" / "public.gpkg", layer="plan_areas")
    row = table[(table["scope"] == "city") & (table["indicator"] == "red_line")]
    assert float(row["area_km2"].iloc[0]) == pytest.approx(city["red_line"]["area_km2"])
    counties = manifest["indicators"]["public"]["counties"]
    assert {c["code"] for c in counties} == {"430802", "430811", "430821", "430822"}


def test_pygeoapi_configs(built: BuildResult) -> None:
    import yaml

    public = yaml.safe_load((built.path / "ogc" / "public.yml").read_text(encoding="utf-8"))
    internal = yaml.safe_load((built.path / "ogc" / "internal.yml").read_text(encoding="utf-8"))
    assert "spxm" not in public["resources"] and "spxm" in internal["resources"]
    assert "spxm" not in json.dumps(public, ensure_ascii=False)
    assert public["metadata"]["identification"]["title"]["zh"].startswith("张家界")
    provider = public["resources"]["stbhhx"]["providers"][0]
    assert provider["data"] == "features/public.gpkg" and provider["table"] == "stbhhx"
