"""The diff of the sample's revision 2 against revision 1 (the session's full release), both
built: every change changes.json lists is found with its kind and layer and nothing else, each
feature's area change agrees with the sample's own, and a rebuild with no change is empty."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from publish.domain import INTERNAL, PUBLIC
from publish.history.diff import ReleaseDiff, compare_releases, diff_releases
from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.sample.generate import generate

pytestmark = pytest.mark.slow

PARCELS, SEED = 2_000, 7  # the session's sample_dir is revision 1 of the same city


@pytest.fixture(scope="module")
def revision_2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    sample = tmp_path_factory.mktemp("revision2")
    generate(sample, parcels=PARCELS, seed=SEED, revision=2)
    tiles = tmp_path_factory.mktemp("revision2-tiles")
    options = BuildOptions(catalog=sample / "layers.yml", out=tiles)
    return sample, build(options, Reporter(io.StringIO(), rich=False))


@pytest.fixture(scope="module")
def diffs(full_release: BuildResult, revision_2: tuple[Path, BuildResult]) -> dict[str, Any]:
    return compare_releases(full_release.path, revision_2[1].path)


def _expected(sample: Path) -> dict[str, dict[int, tuple[str, bool, frozenset[str], float]]]:
    """changes.json as the diff reports it: {layer: {BSM: (kind, geometry changed, changed
    fields, signed area change)}}, layers without a change left out."""
    doc = json.loads((sample / "changes.json").read_text(encoding="utf-8"))
    out: dict[str, dict[int, tuple[str, bool, frozenset[str], float]]] = {}
    for layer, entries in doc["layers"].items():
        for e in entries:
            whole = e["kind"] in ("added", "removed")
            kind = e["kind"] if whole else "changed"
            geometry = whole or "geometry" in e["kind"]
            out.setdefault(layer, {})[e["id"]] = (
                kind,
                geometry,
                frozenset(e["fields"]),
                e["area_m2"],
            )
    return out


def test_every_listed_change_and_nothing_else(
    revision_2: tuple[Path, BuildResult], diffs: dict[str, ReleaseDiff]
) -> None:
    expected = _expected(revision_2[0])
    doc = diffs[INTERNAL].to_dict()
    found = {
        layer["id"]: {
            c["id"]: (c["kind"], c["geometry"], frozenset(c["fields"])) for c in layer["changes"]
        }
        for layer in doc["layers"]
        if layer["changes"]
    }
    assert found == {
        layer: {bsm: entry[:3] for bsm, entry in changes.items()}
        for layer, changes in expected.items()
    }
    assert {"stbhhx", "czkfbj", "ydyh", "dltb", "cun", "spxm"} <= set(found)
    for layer in doc["layers"]:
        assert not any(layer["ids"][side]["missing"] for side in ("old", "new"))
        assert not any(layer["ids"][side]["duplicated"] for side in ("old", "new"))


def test_area_changes_agree_with_the_sample(
    revision_2: tuple[Path, BuildResult], diffs: dict[str, ReleaseDiff]
) -> None:
    expected = _expected(revision_2[0])
    for layer in diffs[INTERNAL].to_dict()["layers"]:
        if layer["geometry"] != "polygon":
            continue
        for change in layer["changes"]:
            want = expected[layer["id"]][change["id"]][3]
            assert change["area_m2"] == pytest.approx(want, rel=1e-3, abs=1.0), change
        net = sum(entry[3] for entry in expected.get(layer["id"], {}).values())
        assert layer["totals"]["net_m2"] == pytest.approx(net, rel=1e-3, abs=1.0), layer["id"]


def test_the_public_diff_leaves_out_the_approved_project(diffs: dict[str, ReleaseDiff]) -> None:
    text = json.dumps(diffs[PUBLIC].to_dict(), ensure_ascii=False)
    assert "spxm" not in text and "在审建设项目" not in text
    assert "spxm" in json.dumps(diffs[INTERNAL].to_dict(), ensure_ascii=False)


def test_a_rebuild_without_change_is_empty(
    revision_2: tuple[Path, BuildResult], tmp_path: Path
) -> None:
    sample, first = revision_2
    again = build(
        BuildOptions(catalog=sample / "layers.yml", out=first.path.parents[1]),
        Reporter(io.StringIO(), rich=False),
    )
    assert again.rebuilt == ()
    for use_fingerprints in (True, False):
        diff = diff_releases(first.path, again.path, use_fingerprints=use_fingerprints)
        assert diff.empty, [layer.id for layer in diff.changed_layers]
