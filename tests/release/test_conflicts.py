"""The conflicts output on the built sample: each audience's document, the `conflicts` layer of
its archive, the style that draws it and the review's warnings — the release still published."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from publish.catalog import load_catalog
from publish.checks.findings import Review, Severity
from publish.indicators.conflicts import KINDS
from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.release.manifest import read_manifest
from publish.release.outputs.conflicts import CONFLICT_FIELDS, SCHEMA
from publish.release.verify import verify_release
from publish.styles import build_legend, validate_style
from publish.tiles.archive import Archive
from tests.mvt import decoded_tiles

AUDIENCES = ("public", "internal")
KINDS_IDS = [kind.id for kind in KINDS]


def _doc(release: Path, audience: str) -> dict[str, Any]:
    entry = read_manifest(release)["audiences"][audience]["conflicts"]
    assert entry == f"conflicts/{audience}.json"
    doc: dict[str, Any] = json.loads((release / entry).read_text(encoding="utf-8"))
    return doc


@pytest.mark.parametrize("audience", AUDIENCES)
def test_document_lists_every_kind_and_unit(full_release: BuildResult, audience: str) -> None:
    doc = _doc(full_release.path, audience)
    assert (doc["schema"], doc["release"], doc["audience"]) == (
        SCHEMA,
        full_release.release_id,
        audience,
    )
    assert [k["id"] for k in doc["kinds"]] == [k.id for k in KINDS]  # every layer is public
    visible = set(read_manifest(full_release.path)["audiences"][audience]["layers"])
    for kind in doc["kinds"]:
        assert set(kind["layers"]) <= visible and len(kind["layers"]) == 2
        assert kind["name"]["zh"] and kind["name"]["en"]
    assert len(doc["areas"]) == len(KINDS) * 5
    assert {(r["scope"], r["code"]) for r in doc["areas"]} == {
        ("city", "430800"),
        *(("county", c) for c in ("430802", "430811", "430821", "430822")),
    }
    assert all(r["area_m2"] > 0 for r in doc["areas"] if r["scope"] == "city")


def test_public_and_internal_figures_agree_when_every_input_is_public(
    full_release: BuildResult,
) -> None:
    public, internal = (_doc(full_release.path, a) for a in AUDIENCES)
    assert public["areas"] == internal["areas"]


@pytest.mark.parametrize("audience", AUDIENCES)
def test_the_archive_holds_the_conflicts_layer(full_release: BuildResult, audience: str) -> None:
    manifest = read_manifest(full_release.path)
    assert "conflicts" in manifest["audiences"][audience]["tiles"]["extra_layers"]
    path = full_release.path / "tiles" / f"{audience}.pmtiles"
    with Archive(path) as archive:
        assert "conflicts" in archive.vector_layers()
    kinds: set[str] = set()
    counties: set[str] = set()
    for _x, _y, tile in decoded_tiles(path, 12):
        for feature in tile.get("conflicts", {}).get("features", []):
            props = feature["properties"]
            assert set(props) <= set(CONFLICT_FIELDS)
            assert props["area_m2"] >= 1
            kinds.add(props["kind"])
            counties.add(props["county"])
    assert kinds == {k.id for k in KINDS}
    assert counties == {"430802", "430811", "430821", "430822"}


def test_each_kind_starts_at_the_zoom_of_the_layers_it_comes_from(
    full_release: BuildResult, sample_dir: Path
) -> None:
    """A conflict is drawn from the zoom where the layers it comes from are drawn: the pieces of
    current-use parcels (三调, catalog minzoom 10) not at the city view, where they were most of
    the viewer's first view though the layer is off when the map opens."""
    catalog = load_catalog(sample_dir / "layers.yml")
    kinds = _doc(full_release.path, "public")["kinds"]
    start = {k["id"]: max(catalog.layer(lid).minzoom for lid in k["layers"]) for k in kinds}
    assert start["current_construction_in_farmland"] == 10  # dltb's catalog minzoom
    assert start["planned_construction_in_farmland"] == 8  # ydyh's and yjjbnt's
    path = full_release.path / "tiles" / "public.pmtiles"
    for zoom in (8, 9, 10):
        drawn = {
            feature["properties"]["kind"]
            for _x, _y, tile in decoded_tiles(path, zoom)
            for feature in tile.get("conflicts", {}).get("features", [])
        }
        assert drawn <= {kind for kind, z in start.items() if z <= zoom}, zoom
        assert ("current_construction_in_farmland" in drawn) == (zoom >= 10), zoom


def test_the_style_draws_the_layer_with_its_legend(full_release: BuildResult) -> None:
    for audience in AUDIENCES:
        style = json.loads((full_release.path / "styles" / f"{audience}.json").read_bytes())
        assert validate_style(style) == []
        ids = [layer["id"] for layer in style["layers"]]
        # above the control lines and below the points and labels
        assert ids.index("stbhhx-line") < ids.index("conflicts-fill") < ids.index("cun-circle")
        item = next(i for i in build_legend(style) if i["layer"] == "conflicts")
        assert item["group_title"] == {"zh": "规划分析评价", "en": "Plan analysis"}
        assert [e["label_zh"] for e in item["entries"]] == [k.zh for k in KINDS]
        assert len({e["colour"] for e in item["entries"]}) == len(KINDS)
        assert all(e["outline"] == e["colour"] and e["opacity"] < 1 for e in item["entries"])
        assert not item["visible"]  # an overlay a planner turns on
        assert [f["name"] for f in item["fields"]] == ["name_zh", "name_en", "area_m2", "county"]


def test_the_review_warns_per_county_and_kind(full_release: BuildResult) -> None:
    manifest = read_manifest(full_release.path)
    assert manifest["review"]["ok"] and manifest["review"]["by_severity"]["blocking"] == 0
    review = Review.from_dict(json.loads((full_release.path / "review.json").read_bytes()))
    warnings = [f for f in review.findings if f.kind == "plan_conflict"]
    assert all(f.severity is Severity.WARNING for f in warnings)
    areas = _doc(full_release.path, "internal")["areas"]
    counted = [r for r in areas if r["scope"] == "county" and r["area_m2"] > 0]
    assert len(warnings) == len(counted) == manifest["review"]["by_kind"]["plan_conflict"]
    by_key = {(f.value, f.area_m2): f for f in warnings}
    for row in counted:
        finding = by_key[row["kind"], row["area_m2"]]
        assert f"{row['area_ha']:.4f} 公顷" in finding.message_zh
        assert row["name"] in finding.message_zh and row["code"] in finding.message
        assert finding.lonlat is not None
        lon, lat = finding.lonlat
        assert 109.6 < lon < 111.4 and 28.8 < lat < 29.9
        assert {finding.layer, finding.other_layer} <= {"dltb", "ydyh", "stbhhx", "yjjbnt"}
    html = (full_release.path / "review.html").read_text(encoding="utf-8")
    assert "规划冲突" in html


@pytest.fixture(scope="module")
def red_line_internal(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The sample with its red line made internal, built (its indicators on the red line made
    internal too, as the model requires: a public indicator on an internal layer stops the build)."""
    root = tmp_path_factory.mktemp("red_line_internal")
    shutil.copytree(sample_dir, root / "sample")
    path = root / "sample" / "layers.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for layer in doc["layers"]:
        if layer["id"] == "stbhhx":
            layer["access"] = "internal"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    model_path = root / "sample" / "indicators.yml"
    model = yaml.safe_load(model_path.read_text(encoding="utf-8"))
    for indicator in model["indicators"]:
        if "stbhhx" in indicator["formula"]:
            indicator["access"] = "internal"
    model_path.write_text(yaml.safe_dump(model, allow_unicode=True, sort_keys=False), "utf-8")
    return build(
        BuildOptions(catalog=path, out=root / "tiles"), Reporter(io.StringIO(), rich=False)
    )


def test_the_public_never_sees_a_kind_of_an_internal_layer(red_line_internal: BuildResult) -> None:
    release = red_line_internal.path
    assert verify_release(release) == []
    public, internal = (_doc(release, a) for a in AUDIENCES)
    red = {"current_construction_in_red_line", "planned_construction_in_red_line"}
    assert [k["id"] for k in internal["kinds"]] == [k.id for k in KINDS]
    assert [k["id"] for k in public["kinds"]] == [k.id for k in KINDS if k.id not in red]
    assert "stbhhx" not in (release / "conflicts" / "public.json").read_text(encoding="utf-8")
    assert "stbhhx" not in (release / "monitoring" / "public.json").read_text(encoding="utf-8")
    assert {r["kind"] for r in public["areas"]}.isdisjoint(red)
    # the kinds both see have the same figures
    assert public["areas"] == [r for r in internal["areas"] if r["kind"] not in red]
    for audience, want in (("public", set(KINDS_IDS) - red), ("internal", set(KINDS_IDS))):
        path = release / "tiles" / f"{audience}.pmtiles"
        kinds = {
            feature["properties"]["kind"]
            for _x, _y, tile in decoded_tiles(path, 12)
            for feature in tile.get("conflicts", {}).get("features", [])
        }
        assert kinds == want, audience
        style = (release / "styles" / f"{audience}.json").read_text(encoding="utf-8")
        assert ("生态保护红线" in style) == (audience == "internal")
    # the review (for staff) still names every kind
    review = json.loads((release / "review.json").read_bytes())
    named = {f["value"] for f in review["findings"] if f["kind"] == "plan_conflict"}
    assert named >= red


def test_the_layer_is_tiled_while_the_model_is_evaluated(full_release: BuildResult) -> None:
    """tippecanoe starts on the conflicts layer once, as soon as the conflicts are computed and
    before the indicator model is evaluated; the join waits for it; nothing is left behind."""
    log = read_manifest(full_release.path)["log"]
    started = [i for i, line in enumerate(log) if "start tiling the conflicts layer: done" in line]
    monitoring = next(i for i, line in enumerate(log) if "monitoring (public) …" in line)
    waited = next(i for i, line in enumerate(log) if "tile the conflicts layer: done" in line)
    assert len(started) == 1 and started[0] < monitoring < waited
    assert not list(full_release.path.parents[1].glob(".staging/.extra-*"))
