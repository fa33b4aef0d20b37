"""The registry of release outputs: every output's entry is in a built release, and
`verify_release` runs each output's check — a part that would show another audience's layer, or
that is not what it claims to be, is named even when the manifest's digests match it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from publish.domain import AUDIENCES
from publish.pipeline.build import BuildResult
from publish.release.manifest import read_manifest, write_manifest
from publish.release.outputs import RELEASE_OUTPUTS
from publish.release.outputs.changes import CHANGES_KEY
from publish.release.verify import verify_release


def test_every_output_has_its_entry_and_passes_its_check(full_release: BuildResult) -> None:
    manifest = read_manifest(full_release.path)
    for output in RELEASE_OUTPUTS:
        parts = list(output.parts(full_release.path, manifest))
        if output.key == CHANGES_KEY:  # a folder's first release replaces none: no diff
            assert parts == []
            continue
        assert len(parts) == (len(AUDIENCES) if output.per_audience else 1), output.key
        for part in parts:
            assert output.check(part) == [], output.key
    assert verify_release(full_release.path) == []


def _public_store_with_internal_table(root: Path) -> None:
    # the internal store's file under the public name: every internal table comes along
    shutil.copy(root / "features" / "internal.gpkg", root / "features" / "public.gpkg")


def _public_config_with_internal_collection(root: Path) -> None:
    path = root / "ogc" / "public.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    internal = yaml.safe_load((root / "ogc" / "internal.yml").read_text(encoding="utf-8"))
    doc["resources"]["spxm"] = internal["resources"]["spxm"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def _public_style_with_internal_url(root: Path) -> None:
    path = root / "styles" / "public.json"
    style = json.loads(path.read_text(encoding="utf-8"))
    style["sources"]["plan"]["url"] = "/tiles/internal.json"
    path.write_text(json.dumps(style), encoding="utf-8")


def _public_tiles_are_the_internal_archive(root: Path) -> None:
    shutil.copy(root / "tiles" / "internal.pmtiles", root / "tiles" / "public.pmtiles")


def _public_conflicts_naming_an_internal_layer(root: Path) -> None:
    path = root / "conflicts" / "public.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["kinds"][0]["layers"] = ["spxm", "stbhhx"]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _review_unreadable(root: Path) -> None:
    (root / "review.json").write_text("{", encoding="utf-8")


def _catalog_without_a_layer(root: Path) -> None:
    path = root / "catalog.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["layers"] = [layer for layer in doc["layers"] if layer["id"] != "spxm"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_public_store_with_internal_table, "features (public): features/public.gpkg holds"),
        (_public_config_with_internal_collection, "ogc (public): ogc/public.yml: collections"),
        (_public_style_with_internal_url, "style (public): public style refers to /tiles/int"),
        (_public_tiles_are_the_internal_archive, "tiles (public): archive holds layers"),
        (_public_conflicts_naming_an_internal_layer, "conflicts (public): conflicts/public.json"),
        (_review_unreadable, "review: review.json: unreadable"),
        (_catalog_without_a_layer, "catalog: catalog.yml lacks layers ['spxm']"),
    ],
    ids=["store", "ogc", "style", "tiles", "conflicts", "review", "catalog"],
)
def test_a_damaged_part_is_named_though_the_digests_match(
    full_release: BuildResult, tmp_path: Path, damage: Callable[[Path], None], expected: str
) -> None:
    root = tmp_path / full_release.path.name
    shutil.copytree(full_release.path, root)
    damage(root)
    manifest = read_manifest(root)
    write_manifest(root, {k: v for k, v in manifest.items() if k != "files"})  # digests match
    problems = verify_release(root)
    assert any(p.startswith(expected) for p in problems), problems
    if "public" in expected:  # the internal audience's parts are untouched and not named
        assert not any("(internal)" in p for p in problems), problems


def test_a_store_that_cannot_be_read_is_named(full_release: BuildResult, tmp_path: Path) -> None:
    root = tmp_path / full_release.path.name
    shutil.copytree(full_release.path, root)
    with sqlite3.connect(root / "features" / "internal.gpkg") as conn:
        conn.execute("DROP TABLE gpkg_contents")
    manifest = read_manifest(root)
    write_manifest(root, {k: v for k, v in manifest.items() if k != "files"})
    problems = verify_release(root)
    assert any(p.startswith("features (internal): features/internal.gpkg") for p in problems)
