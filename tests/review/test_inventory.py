"""The report's inventory (review.json "checked", review.html): every layer with what was read,
every rule with what it checked, the control lines' figures — against independent readings of
the sources; the same for a refused build and for a build whose layers all come from the cache."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import shapely

from publish.catalog import CONTROL_LINE_ROLES, Catalog, LayerSpec, load_catalog
from publish.checks.findings import Review
from publish.checks.layer import CODE_ROLES, source_error_finding
from publish.checks.rules import RULES
from publish.crs.gcj02 import transform_geometry_gcj02_to_wgs84
from publish.errors import SourceError
from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.fingerprint import layer_fingerprint, tool_versions
from publish.pipeline.layer import INFO, LayerOutput, load_cached
from publish.pipeline.progress import Reporter
from publish.review.inputs import ReportInputs
from publish.review.inventory import inventory_html, take_inventory
from publish.review.report import read_review
from publish.sources import is_gcj02

REL = 1e-4  # 0.01 %


def _doc(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / "review.json").read_text(encoding="utf-8"))
    return doc


def _source(spec: LayerSpec) -> gpd.GeoDataFrame:
    """The layer's source read with geopandas alone, in its CRS as the catalog says."""
    frame = gpd.read_file(spec.source, layer=spec.layer, encoding=spec.encoding)
    if is_gcj02(spec):  # GCJ-02 lon/lat: the datum offset stretches areas by ~0.1 %
        geoms = transform_geometry_gcj02_to_wgs84(frame.geometry.array)
        return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs="EPSG:4326"))
    if spec.crs:
        return frame.set_crs(spec.crs, allow_override=True)
    return frame


def _areas(catalog: Catalog) -> dict[str, gpd.GeoSeries]:
    return {s.id: _source(s).to_crs(catalog.crs).geometry for s in catalog.layers}


@pytest.fixture(scope="module")
def clean(full_release: BuildResult, sample_dir: Path) -> tuple[dict[str, Any], Catalog]:
    return _doc(full_release.path), load_catalog(sample_dir / "layers.yml")


def test_every_layer_is_listed_as_its_source_reads(
    clean: tuple[dict[str, Any], Catalog], sample_dir: Path
) -> None:
    doc, catalog = clean
    layers = doc["checked"]["layers"]
    assert [entry["id"] for entry in layers] == [s.id for s in catalog.layers]
    kept_back_somewhere = False
    for spec, entry in zip(catalog.layers, layers, strict=True):
        frame = _source(spec)
        assert entry["title"] == {"zh": spec.title_zh, "en": spec.title_en}
        assert entry["source"] == spec.source.relative_to(sample_dir).as_posix()
        assert entry["error"] is None
        assert entry["features"] == len(frame), spec.id
        if spec.geometry == "polygon" or frame.geom_type.str.contains("Polygon").all():
            expected = float(frame.to_crs(catalog.crs).area.sum())
            assert entry["area_m2"] == pytest.approx(expected, rel=REL), spec.id
        else:
            assert entry["area_m2"] is None, spec.id
        source_fields = [c for c in frame.columns if c != frame.geometry.name]
        assert entry["fields"]["published"] == [f for f in spec.fields if f in source_fields]
        assert set(entry["fields"]["kept_back"]) == set(source_fields) - set(spec.fields)
        kept_back_somewhere |= bool(entry["fields"]["kept_back"])
        assert entry["zoom"] == [spec.minzoom, spec.maxzoom]
        assert entry["access"] == spec.access
    assert kept_back_somewhere

    by_id = {entry["id"]: entry for entry in layers}
    farmland = by_id["yjjbnt"]  # GBK Shapefile without a .cpg: the catalog says GBK
    assert farmland["format"] == "ESRI Shapefile"
    assert farmland["encoding"] == {"name": "GBK", "from": "catalog"}
    assert farmland["fields"]["kept_back"] == ["CBJYQR"]  # the contractors never leave
    assert by_id["stbhhx"]["crs"] == {"name": "EPSG:4490", "from": "file", "note": None}
    assert by_id["stbhhx"]["format"] == "GPKG"
    assert by_id["spxm"]["crs"]["note"] == "GCJ-02 → converted to WGS 84"
    assert by_id["spxm"]["access"] == "internal"


def test_every_rule_with_what_it_checked(clean: tuple[dict[str, Any], Catalog]) -> None:
    doc, catalog = clean
    rules = {rule["kind"]: rule for rule in doc["checked"]["rules"]}
    assert list(rules) == [rule.kind for rule in RULES]
    counts = {s.id: len(_source(s)) for s in catalog.layers}
    fields = {
        s.id: set(pyogrio.read_info(s.source, layer=s.layer)["fields"]) for s in catalog.layers
    }

    def total(specs: Any) -> int:
        return sum(counts[s.id] for s in specs)

    assert rules["source_error"]["checked"] == len(catalog.layers)  # layers, not features
    assert rules["source_error"]["unit"] == "layers"
    assert rules["empty_geometry"]["checked"] == sum(counts.values())
    coded = [s for s in catalog.layers if s.role in CODE_ROLES and s.code_field]
    assert coded and rules["unknown_code"]["checked"] == total(coded)
    assert {row["id"] for row in rules["unknown_code"]["layers"]} == {s.id for s in coded}
    with_mj = [s for s in catalog.layers if s.geometry == "polygon" and "MJ" in fields[s.id]]
    assert rules["area_mismatch"]["checked"] == total(with_mj)
    lines = [s for s in catalog.layers if s.role in CONTROL_LINE_ROLES]
    assert rules["control_line_overlap"]["checked"] == total(lines)
    zones = [s for s in catalog.layers if s.role == "planning_zone"]
    assert rules["zone_gap"]["checked"] == total(zones) + counts["xzq_xian"]
    for kind, rule in rules.items():
        assert rule["run"] is True, kind
        assert rule["failed"] == doc["summary"]["by_kind"].get(kind, 0), kind
        assert rule["failed"] == sum(row["failed"] for row in rule["layers"])
    assert rules["plan_conflict"]["failed"] > 0  # warnings: the release is still published


def test_control_lines_areas_shares_and_no_overlap(clean: tuple[dict[str, Any], Catalog]) -> None:
    doc, catalog = clean
    figures = doc["checked"]["control_lines"]
    geoms = _areas(catalog)
    city = shapely.union_all(geoms["xzq_xian"].to_numpy()).area
    assert figures["city"]["layer"] == "xzq_xian"
    assert figures["city"]["area_m2"] == pytest.approx(city, rel=REL)
    assert [line["role"] for line in figures["lines"]] == list(CONTROL_LINE_ROLES)
    for line in figures["lines"]:
        (spec,) = catalog.by_role(line["role"])
        area = shapely.union_all(geoms[spec.id].to_numpy()).area
        assert line["layers"] == [spec.id]
        assert line["area_m2"] == pytest.approx(area, rel=REL)
        assert line["area_km2"] == pytest.approx(area / 1e6, rel=REL)
        assert line["area_ha"] == pytest.approx(area / 1e4, rel=REL)
        assert line["share"] == pytest.approx(area / city, rel=1e-3)
    assert len(figures["overlaps"]) == 3
    assert all(pair["area_m2"] == 0 for pair in figures["overlaps"])


def test_refused_report_lists_every_layer_and_the_overlap(
    refused_report: Path, defective_sample_dir: Path
) -> None:
    doc = _doc(refused_report)
    catalog = load_catalog(defective_sample_dir / "layers.yml")
    checked = doc["checked"]
    assert checked["outcome"].startswith("refused ")
    assert [entry["id"] for entry in checked["layers"]] == [s.id for s in catalog.layers]
    assert all(entry["features"] and entry["format"] for entry in checked["layers"])
    rules = {rule["kind"]: rule for rule in checked["rules"]}
    assert rules["plan_conflict"]["run"] is False  # the release's analysis: not reached
    for kind in ("invalid_geometry", "unknown_code", "area_mismatch", "duplicate_id"):
        assert rules[kind]["failed"] >= 1 and rules[kind]["checked"] > 0, kind

    geoms = _areas(catalog)
    red = shapely.union_all(geoms["stbhhx"].to_numpy())
    farm = shapely.union_all(shapely.make_valid(geoms["yjjbnt"].to_numpy()))
    planted = shapely.intersection(red, farm).area
    overlaps = {
        tuple(pair["roles"]): pair["area_m2"] for pair in checked["control_lines"]["overlaps"]
    }
    assert overlaps[("red_line", "farmland")] == pytest.approx(planted, abs=1.0)
    assert overlaps[("red_line", "urban_boundary")] == overlaps[("farmland", "urban_boundary")] == 0
    defects = json.loads((defective_sample_dir / "defects.json").read_text(encoding="utf-8"))
    (defect,) = [d for d in defects if d["kind"] == "control_line_overlap"]
    # defects.json records the planted parcel's overlap with one red-line feature; the parcel
    # straddles two, and the lines' overlap is all of it: the findings' areas add up to it
    assert overlaps[("red_line", "farmland")] >= defect["area_m2"] - 1.0
    found = [f["area_m2"] for f in doc["findings"] if f["kind"] == "control_line_overlap"]
    assert overlaps[("red_line", "farmland")] == pytest.approx(sum(found), abs=1.0)


def test_no_absolute_path_in_review_json(
    full_release: BuildResult, sample_dir: Path, refused_report: Path, defective_sample_dir: Path
) -> None:
    for folder, sample in ((full_release.path, sample_dir), (refused_report, defective_sample_dir)):
        text = (folder / "review.json").read_text(encoding="utf-8")
        assert str(sample) not in text
        assert str(sample.resolve()) not in text


def test_the_page_shows_the_inventory(full_release: BuildResult, sample_dir: Path) -> None:
    html = (full_release.path / "review.html").read_text(encoding="utf-8")
    features = {e["id"]: e["features"] for e in _doc(full_release.path)["checked"]["layers"]}
    assert "审查内容 What was checked" in html
    for heading in ("图层 Layers", "审查规则 Rules", "三条控制线", "工具版本 Tools"):
        assert heading in html
    catalog = load_catalog(sample_dir / "layers.yml")
    for spec in catalog.layers:
        assert f"<code>{spec.id}</code>" in html
    assert "GCJ-02 → converted to WGS 84" in html
    assert f"<td class='num'>{features['yjjbnt']:,}</td>" in html  # right-aligned numbers
    assert str(sample_dir) not in html


@pytest.fixture(scope="module")
def rebuilt(full_release: BuildResult, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The clean sample built again into a copy of full_release's tiles folder: every layer,
    and the cross checks, from the cache."""
    out = tmp_path_factory.mktemp("reuse") / "tiles"
    shutil.copytree(full_release.path.parents[1], out, symlinks=True)
    log = io.StringIO()
    result = build(
        BuildOptions(catalog=sample_dir / "layers.yml", out=out), Reporter(log, rich=False)
    )
    return result, log.getvalue(), out


def test_reused_layers_give_the_same_inventory(
    full_release: BuildResult, rebuilt: tuple[BuildResult, str, Path]
) -> None:
    result, log, _ = rebuilt
    assert result.rebuilt == () and len(result.reused) == 13
    assert "cross-layer checks: inputs unchanged, findings reused" in log
    first, again = _doc(full_release.path)["checked"], _doc(result.path)["checked"]
    for key in ("layers", "rules", "control_lines", "tools"):
        assert again[key] == first[key], key
    assert again["outcome"] == f"release {result.release_id}"


def test_a_cache_entry_without_counts_says_unknown(
    rebuilt: tuple[BuildResult, str, Path], sample_dir: Path
) -> None:
    result, _, out = rebuilt
    catalog = load_catalog(sample_dir / "layers.yml")
    top = max(s.maxzoom for s in catalog.layers)
    layers: Mapping[str, Any] = {}
    for spec in catalog.layers:
        fingerprint = layer_fingerprint(
            spec, top_zoom=top, versions=tool_versions(), crs=catalog.crs
        )
        cached = load_cached(out / "cache", spec, fingerprint)
        assert cached is not None and cached.checked
        if spec.id == "yjjbnt":  # as a layer.json written before the counts were kept
            info = json.loads((cached.folder / INFO).read_text(encoding="utf-8"))
            del info["checked"]
            (cached.folder / INFO).write_text(json.dumps(info), encoding="utf-8")
            cached = load_cached(out / "cache", spec, fingerprint)
            assert cached is not None and cached.checked is None
        layers = {**layers, spec.id: cached}
    inputs = ReportInputs(
        catalog=catalog,
        catalog_source=sample_dir / "layers.yml",
        layers=layers,
        when=datetime.now(UTC),
        release_id="x",
    )
    doc = take_inventory(read_review(result.path / "review.json"), inputs)
    rules = {rule["kind"]: rule for rule in doc["rules"]}
    farmland = {row["id"]: row for row in rules["empty_geometry"]["layers"]}["yjjbnt"]
    assert farmland["checked"] is None and rules["empty_geometry"]["checked"] is None
    assert rules["zone_gap"]["run"] is None and rules["zone_gap"]["checked"] is None
    assert doc["control_lines"] is None  # no cross figures given: not measured, not 0
    html = "".join(inventory_html(doc))
    assert "未知 unknown" in html and "未计算 Not measured" in html


def test_a_layer_that_could_not_be_read_says_so(sample_dir: Path, tmp_path: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    gone = replace(catalog.layer("hl"), source=sample_dir / "gone" / "hl.geojson")
    catalog = replace(catalog, layers=(gone,))
    error = SourceError(f"layer 'hl' ({gone.source}): source file does not exist")
    output = LayerOutput(
        gone,
        "0" * 64,
        tmp_path,
        reused=False,
        findings=[source_error_finding(gone, error)],
        checked={"source_error": 1},
    )
    inputs = ReportInputs(
        catalog=catalog,
        catalog_source=sample_dir / "layers.yml",
        layers={"hl": output},
        when=datetime.now(UTC),
        cross={"checked": {}, "control_lines": None},
    )
    review = Review(list(output.findings))
    doc = take_inventory(review, inputs)
    (entry,) = doc["layers"]
    assert entry["features"] is None and entry["format"] is None and entry["area_m2"] is None
    assert "(gone/hl.geojson): source file does not exist" in entry["error"]
    assert str(sample_dir) not in json.dumps(doc, ensure_ascii=False)
    rules = {rule["kind"]: rule for rule in doc["rules"]}
    assert (rules["source_error"]["checked"], rules["source_error"]["failed"]) == (1, 1)
    assert rules["empty_geometry"]["run"] is False  # nothing was read to check
    assert rules["control_line_overlap"]["run"] is False
    html = "".join(inventory_html(doc))
    assert "无法读取 not read" in html and "未运行 not run" in html
