"""Rebuilding: unchanged layers are reused, a changed one is rebuilt, --only, release switch."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.release.manifest import read_manifest
from publish.release.store import ReleaseStore
from tests.mvt import decoded_tiles


def _build(catalog: Path, out: Path, **kw: object) -> tuple[BuildResult, str]:
    log = io.StringIO()
    result = build(BuildOptions(catalog=catalog, out=out, **kw), Reporter(log, rich=False))  # type: ignore[arg-type]
    return result, log.getvalue()


@pytest.fixture(scope="module")
def workspace(sample_dir: Path, built: BuildResult, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the sample and of the built tiles folder (with its layer cache)."""
    root = tmp_path_factory.mktemp("incremental")
    shutil.copytree(sample_dir, root / "sample")
    shutil.copytree(built.path.parents[1], root / "tiles", symlinks=True)
    return root / "sample", root / "tiles"


def test_unchanged_catalog_reuses_every_layer(workspace: tuple[Path, Path]) -> None:
    sample, tiles = workspace
    result, log = _build(sample / "layers.yml", tiles)
    assert result.rebuilt == ()
    manifest = read_manifest(result.path)
    assert not any(entry["rebuilt"] for entry in manifest["layers"].values())
    assert log.count("unchanged, reused") == len(manifest["layers"])
    assert "cross-layer checks: inputs unchanged, findings reused" in log


def test_a_changed_cross_rule_checks_across_layers_again(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from publish.checks import rules

    sample, tiles = workspace
    bumped = tuple(
        replace(r, version=r.version + 1) if r.kind == "zone_gap" else r for r in rules.RULES
    )
    monkeypatch.setattr(rules, "RULES", bumped)
    result, log = _build(sample / "layers.yml", tiles)
    assert result.rebuilt == ()  # a cross rule changes no layer's output
    assert "findings reused" not in log
    monkeypatch.undo()
    _result, again = _build(sample / "layers.yml", tiles)
    assert "findings reused" not in again  # the old rules' findings were not kept either


def test_changed_source_rebuilds_only_that_layer(workspace: tuple[Path, Path]) -> None:
    sample, tiles = workspace
    rivers = json.loads((sample / "hl.geojson").read_text(encoding="utf-8"))
    rivers["features"][0]["properties"]["HLMC"] = "测试河（改名）"
    (sample / "hl.geojson").write_text(json.dumps(rivers, ensure_ascii=False), encoding="utf-8")
    result, log = _build(sample / "layers.yml", tiles)
    assert result.rebuilt == ("hl",)
    manifest = read_manifest(result.path)
    assert [lid for lid, e in manifest["layers"].items() if e["rebuilt"]] == ["hl"]
    assert "hl: rebuilt" in log
    assert "findings reused" in log  # rivers take no part in the cross-layer checks
    names = {
        f["properties"].get("HLMC")
        for _x, _y, tile in decoded_tiles(result.path / "tiles" / "public.pmtiles", 10)
        for f in tile.get("hl", {}).get("features", [])
    }
    assert "测试河（改名）" in names


def test_only_rebuilds_one_layer(workspace: tuple[Path, Path]) -> None:
    sample, tiles = workspace
    result, _log = _build(sample / "layers.yml", tiles, only=("cun",))
    assert result.rebuilt == ("cun",)
    assert "cun" not in result.reused and len(result.reused) == 12


def test_release_list_and_switch_cli(workspace: tuple[Path, Path]) -> None:
    _sample, tiles = workspace
    store = ReleaseStore(tiles)
    ids = store.ids()
    assert len(ids) >= 3
    run = [sys.executable, "-m", "publish", "release"]
    listed = subprocess.run([*run, "list", "--out", str(tiles)], capture_output=True, text=True)
    assert listed.returncode == 0
    assert all(rid in listed.stdout for rid in ids)
    assert f"* {store.current_id()}" in listed.stdout
    switched = subprocess.run([*run, "switch", ids[0], "--out", str(tiles)], capture_output=True)
    assert switched.returncode == 0
    assert store.current_id() == ids[0]
    bad = subprocess.run(
        [*run, "switch", "20990101T000000Z-deadbeef", "--out", str(tiles)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no release 20990101T000000Z-deadbeef" in bad.stderr
    assert store.current_id() == ids[0]
    store.switch(ids[-1])


def test_keep_prunes_old_releases(workspace: tuple[Path, Path]) -> None:
    sample, tiles = workspace
    result, _ = _build(sample / "layers.yml", tiles, keep=2)
    store = ReleaseStore(tiles)
    assert len(store.ids()) == 2 and store.current_id() == result.release_id
