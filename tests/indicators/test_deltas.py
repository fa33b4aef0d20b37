"""Deltas across three releases of the sample (`--revision 1/2/3`): each release's `previous` is
the value in the release it replaced, and values change where changes.json says layers changed."""

from __future__ import annotations

import io
import itertools
import json
import shutil
from dataclasses import dataclass
from typing import Any

import pytest

from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.release.manifest import read_manifest
from publish.sample.generate import generate

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Revision:
    doc: dict[str, Any]  # monitoring/internal.json
    changes: dict[str, Any]  # the sample's changes.json (from the revision before)
    log: list[str]  # the build's log (manifest)

    def values(self) -> dict[Key, float | None]:
        return {(r["indicator"], r["scope"], r["code"]): r["value"] for r in self.doc["results"]}

    def row(self, indicator: str, scope: str = "city", code: str = "430800") -> dict[str, Any]:
        (row,) = [
            r
            for r in self.doc["results"]
            if (r["indicator"], r["scope"], r["code"]) == (indicator, scope, code)
        ]
        return row


@pytest.fixture(scope="module")
def revisions(
    full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> list[Revision]:
    """Revision 1 is the session's full release (its tiles folder copied, layer cache and all);
    revisions 2 and 3 of the same sample are built over it in turn."""
    root = tmp_path_factory.mktemp("deltas")
    tiles = root / "tiles"
    shutil.copytree(full_release.path.parents[1], tiles, symlinks=True)
    first = tiles / "releases" / full_release.release_id
    out = [
        Revision(
            json.loads((first / "monitoring" / "internal.json").read_text("utf-8")),
            {},
            read_manifest(first)["log"],
        )
    ]
    for number in (2, 3):
        sample = root / f"revision-{number}"
        generate(sample, parcels=2_000, seed=7, revision=number)
        result = build(
            BuildOptions(catalog=sample / "layers.yml", out=tiles),
            Reporter(io.StringIO(), rich=False),
        )
        doc = json.loads((result.path / "monitoring" / "internal.json").read_text("utf-8"))
        changes = json.loads((sample / "changes.json").read_text("utf-8"))
        out.append(Revision(doc, changes, read_manifest(result.path)["log"]))
    return out


def test_previous_is_the_replaced_releases_value(revisions: list[Revision]) -> None:
    for before, after in itertools.pairwise(revisions):
        old = before.values()
        for row in after.doc["results"]:
            previous = old.get((row["indicator"], row["scope"], row["code"]))
            assert row["previous"] == previous
            if row["value"] is None or previous is None:
                assert row["delta"] is None
            else:
                assert row["delta"] == pytest.approx(row["value"] - previous, abs=1e-9)


def test_values_change_where_the_layers_changed(revisions: list[Revision]) -> None:
    for after in revisions[1:]:
        changed = {layer for layer, rows in after.changes["layers"].items() if rows}
        assert {"stbhhx", "czkfbj", "dltb", "cun", "spxm"} <= changed
        assert "yjjbnt" not in changed and "xzq_xian" not in changed
        for indicator in after.doc["indicators"]:
            deltas = [r["delta"] for r in after.doc["results"] if r["indicator"] == indicator["id"]]
            if not set(indicator["layers"]) & changed:
                assert set(deltas) == {0.0}, indicator["id"]  # farmland: untouched
        # the red line: the city's delta is the sum of the signed area changes listed (patches
        # taken out and as much added: about 0), the counties' deltas show where they moved
        listed = sum(c["area_m2"] for c in after.changes["layers"]["stbhhx"]) / 1e6
        red = after.row("red_line_area")
        assert red["delta"] == pytest.approx(listed, abs=0.01)
        counties = [r["delta"] for r in after.doc["results"]
                    if r["indicator"] == "red_line_area" and r["scope"] == "county"]  # fmt: skip
        assert sum(counties) == pytest.approx(red["delta"], abs=1e-3)
        assert max(abs(d) for d in counties) > 1  # km²: three mid-sized patches moved
        # the urban boundary only grows; a village is added; a project is added
        assert after.row("urban_boundary_area")["delta"] > 0
        villages = after.changes["layers"]["cun"]
        added = sum(1 for c in villages if c["kind"] == "added")
        removed = sum(1 for c in villages if c["kind"] == "removed")
        assert after.row("villages")["delta"] == added - removed
        assert after.row("projects_under_review")["delta"] > 0


def test_every_revision_still_shows_a_warning_and_a_breach(revisions: list[Revision]) -> None:
    for revision in revisions:
        county = {r["status"] for r in revision.doc["results"] if r["scope"] == "county"}
        assert {"ok", "warning", "breach"} <= county
        assert revision.row("farmland_protection", "county", "430802")["status"] == "warning"
        assert revision.row("cultivated_land", "county", "430822")["status"] == "breach"


def test_unchanged_figures_are_reused(revisions: list[Revision]) -> None:
    """The farmland layer, the counties and the townships are the same in every revision: its
    figures are taken over, not computed; everything reading a changed layer is computed."""
    for revision in revisions[1:]:
        lines = [line for line in revision.log if "figures taken over:" in line]
        assert [line.split("over: ")[1] for line in lines] == ["farmland_protection"] * 2
