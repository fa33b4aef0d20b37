"""Revisions of the sample: deterministic, revision 1 untouched, changes.json true and complete
against an independent reading of the files, and a revision the build still publishes."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from publish.catalog import load_catalog
from publish.crs.gcj02 import transform_geometry_gcj02_to_wgs84
from publish.errors import PublishError
from publish.sample.controls import RED_LINE_M2
from publish.sample.generate import generate
from publish.sample.resurvey import SURVEY_RECODES
from publish.sample.revision import PLANNED_RECODES, revise
from publish.sample.writer import LayerOut, frame
from publish.standards import is_valid_code

pytestmark = pytest.mark.slow

PARCELS, SEED = 2_000, 7  # the session's sample_dir is revision 1 of the same city


@pytest.fixture(scope="module")
def revision_2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("revision2")
    generate(out, parcels=PARCELS, seed=SEED, revision=2)
    return out


@pytest.fixture(scope="module")
def revision_3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("revision3")
    generate(out, parcels=PARCELS, seed=SEED, revision=3)
    return out


def listed(sample: Path, key: str = "layers") -> dict[str, dict[int, dict[str, Any]]]:
    doc = json.loads((sample / "changes.json").read_text(encoding="utf-8"))
    return {layer: {e["id"]: e for e in entries} for layer, entries in doc[key].items()}


def read(sample: Path, layer_id: str) -> gpd.GeoDataFrame:
    """The layer as a reader sees it, in the catalog's CRS (GCJ-02 converted first)."""
    catalog = load_catalog(sample / "layers.yml")
    spec = catalog.layer(layer_id)
    data = gpd.read_file(spec.source, layer=spec.layer, encoding=spec.encoding)
    if spec.crs == "GCJ-02":
        wgs = [transform_geometry_gcj02_to_wgs84(g) for g in data.geometry]
        data = data.set_geometry(gpd.GeoSeries(wgs, index=data.index, crs="EPSG:4326"))
    return data.to_crs(catalog.crs)


def observed(before: Path, after: Path) -> dict[str, dict[int, tuple[str, set[str], float]]]:
    """What changed from `before` to `after`, found by reading both: {layer: {id: (kind,
    changed fields, signed area change)}}."""
    found: dict[str, dict[int, tuple[str, set[str], float]]] = {}
    for spec in load_catalog(after / "layers.yml").layers:
        key = spec.id_field
        old, new = read(before, spec.id), read(after, spec.id)
        assert old[key].is_unique and new[key].is_unique, spec.id
        old, new = old.set_index(key), new.set_index(key)
        changes: dict[int, tuple[str, set[str], float]] = {}
        for i in new.index.difference(old.index):
            changes[int(i)] = ("added", set(), new.geometry[i].area)
        for i in old.index.difference(new.index):
            changes[int(i)] = ("removed", set(), -old.geometry[i].area)
        both = old.index.intersection(new.index)
        a, b = old.loc[both], new.loc[both]
        moved = ~shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0.0)
        fields = [c for c in new.columns if c != new.geometry.name]
        differs = pd.DataFrame({c: ~((a[c] == b[c]) | (a[c].isna() & b[c].isna())) for c in fields})
        for n, i in enumerate(both):
            names = {c for c in fields if differs[c].iloc[n]}
            if moved[n] or names:
                kind = "geometry+attributes" if moved[n] and names else (
                    "geometry" if moved[n] else "attributes")  # fmt: skip
                changes[int(i)] = (kind, names, b.geometry[i].area - a.geometry[i].area)
        found[spec.id] = changes
    return found


def assert_listed_is_observed(
    lists: dict[str, dict[int, dict[str, Any]]],
    seen: dict[str, dict[int, tuple[str, set[str], float]]],
) -> None:
    assert set(lists) == set(seen)
    for layer, changes in seen.items():
        # nothing changed that is not listed, nothing listed that did not change
        assert set(lists[layer]) == set(changes), layer
        for key, (kind, fields, area) in changes.items():
            entry = lists[layer][key]
            assert entry["kind"] == kind, (layer, key)
            assert set(entry["fields"]) == fields, (layer, key)
            assert entry["area_m2"] == pytest.approx(area, rel=1e-4, abs=1.0), (layer, key)


def test_same_seed_and_revision_same_files(revision_2: Path, tmp_path: Path) -> None:
    generate(tmp_path, parcels=PARCELS, seed=SEED, revision=2)
    names = sorted(p.name for p in revision_2.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert "changes.json" in names and any(n.endswith(".gpkg") for n in names)
    for name in names:
        assert (tmp_path / name).read_bytes() == (revision_2 / name).read_bytes(), name


def test_revision_1_is_the_sample_as_generated(sample_dir: Path, revision_2: Path) -> None:
    doc = json.loads((sample_dir / "changes.json").read_text(encoding="utf-8"))
    assert doc["revision"] == 1 and doc["previous"] is None
    assert set(doc["layers"]) == {s.id for s in load_catalog(sample_dir / "layers.yml").layers}
    assert not any(doc["layers"].values()) and not any(doc["since_revision_1"].values())
    # revision 2 draws from generators of its own: the files of the layers it leaves alone are
    # revision 1's, byte for byte (so generating revision N leaves the sample itself as it was)
    untouched = ["xzq.gpkg", "hl.geojson", "yjjbnt.shp", "yjjbnt.dbf", "dl.shp", "dl.dbf"]
    for name in untouched:
        assert (revision_2 / name).read_bytes() == (sample_dir / name).read_bytes(), name


def test_revision_1_changes_nothing() -> None:
    square = shapely.box(0, 0, 10, 10)
    item = LayerOut(frame([square], {"DLBM": ["0101"]}, 0), {"id": "t"}, "gpkg", "t.gpkg")
    before = item.frame
    doc = revise([item], None, None, seed=1, revision=1)  # type: ignore[arg-type]
    assert item.frame is before
    assert doc["previous"] is None and doc["layers"] == {"t": []}


def test_changes_json_lists_every_change_and_only_those(sample_dir: Path, revision_2: Path) -> None:
    assert_listed_is_observed(listed(revision_2), observed(sample_dir, revision_2))
    assert listed(revision_2, "since_revision_1") == listed(revision_2)


def test_revision_3_is_revision_2_and_more(
    sample_dir: Path, revision_2: Path, revision_3: Path
) -> None:
    assert_listed_is_observed(listed(revision_3), observed(revision_2, revision_3))
    assert_listed_is_observed(
        listed(revision_3, "since_revision_1"), observed(sample_dir, revision_3)
    )
    # ids are never reused: what revision 2 removed stays gone
    for layer, entries in listed(revision_2).items():
        gone = {k for k, e in entries.items() if e["kind"] == "removed"}
        assert not gone & {k for k, e in listed(revision_3)[layer].items() if e["kind"] == "added"}


def test_the_changes_are_a_plans_revision(sample_dir: Path, revision_2: Path) -> None:
    catalog = load_catalog(revision_2 / "layers.yml")
    changes = listed(revision_2)
    kinds = {
        layer: Counter(e["kind"] for e in entries.values()) for layer, entries in changes.items()
    }
    changed = {layer for layer, count in kinds.items() if count}
    assert changed == {"stbhhx", "czkfbj", "ydyh", "dltb", "cun", "spxm"}

    # red line: patches out and in, the total still the plan's figure
    assert kinds["stbhhx"]["removed"] >= 2 and kinds["stbhhx"]["added"] >= 2
    assert set(kinds["stbhhx"]) == {"added", "removed"}
    red = read(revision_2, "stbhhx")
    assert red.area.sum() == pytest.approx(RED_LINE_M2, rel=0.02)

    # urban boundary: grown (never shrunk) around exactly two towns
    assert set(kinds["czkfbj"]) == {"geometry+attributes"}
    assert all(e["area_m2"] > 10_000 and e["fields"] == ["MJ"] for e in changes["czkfbj"].values())
    urban = read(revision_2, "czkfbj")
    grown = urban[urban["BSM"].isin(list(changes["czkfbj"]))]
    assert grown["XZQDM"].nunique() == 2 and set(grown["GHFQDM"]) == {"42"}

    # planned land use: about 1 % recoded, to national codes
    planned = read(revision_2, "ydyh")
    assert set(kinds["ydyh"]) == {"attributes"}
    assert kinds["ydyh"]["attributes"] == pytest.approx(0.01 * len(planned), abs=2)
    assert all(set(e["fields"]) == {"YDYHFLDM", "YDYHFLMC"} for e in changes["ydyh"].values())
    assert planned["YDYHFLDM"].map(is_valid_code).all()

    # current land use: about 0.5 % of the parcels split, merged or recoded
    parcels = read(revision_2, "dltb")
    assert parcels["DLBM"].map(is_valid_code).all()
    assert {"added", "removed", "attributes", "geometry+attributes"} == set(kinds["dltb"])
    splits = kinds["dltb"]["added"] // 2
    merges = kinds["dltb"]["geometry+attributes"]
    operations = splits + merges + kinds["dltb"]["attributes"]
    assert operations == pytest.approx(0.005 * PARCELS, abs=2)
    assert kinds["dltb"]["removed"] == splits + merges
    # the parcels still tile the city: a split or a merge keeps the total area
    assert sum(e["area_m2"] for e in changes["dltb"].values()) == pytest.approx(0, abs=10.0)

    # one village and one internal project more
    assert kinds["cun"] == {"added": 1} and kinds["spxm"] == {"added": 1}
    assert catalog.layer("spxm").access == "internal"
    villages = read(revision_2, "cun")
    assert villages["CJMC"].is_unique and villages["CJDM"].is_unique


def test_revision_2_publishes(revision_2: Path, tmp_path: Path) -> None:
    from publish.pipeline.build import BuildOptions, build
    from publish.pipeline.progress import Reporter

    result = build(
        BuildOptions(catalog=revision_2 / "layers.yml", out=tmp_path),
        Reporter(io.StringIO(), rich=False),
    )
    assert result.review.ok and not result.review.blocking
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["review"]["by_severity"]["blocking"] == 0


def test_recodes_are_national_codes() -> None:
    for table in (PLANNED_RECODES, SURVEY_RECODES):
        for old, new in table.items():
            assert is_valid_code(old) and all(map(is_valid_code, new)), old
            assert old not in new


def test_bad_revisions_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="at least 1"):
        generate(tmp_path, revision=0)
    with pytest.raises(PublishError, match="--with-defects"):
        generate(tmp_path, with_defects=True, revision=2)
    assert not any(tmp_path.iterdir())
    from publish.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["sample", "--out", str(tmp_path), "--revision", "0"])
    assert exit_.value.code == 2
    assert main(["sample", "--out", str(tmp_path), "--with-defects", "--revision", "2"]) == 2


def test_unchanged_features_keep_their_geometry(sample_dir: Path, revision_2: Path) -> None:
    """The heaviest layer, compared whole: every parcel not listed is the same, vertex for
    vertex, with the same attributes, in revision 2."""
    old = read(sample_dir, "dltb").set_index("BSM")
    new = read(revision_2, "dltb").set_index("BSM")
    keep = np.setdiff1d(old.index, list(listed(revision_2)["dltb"]))
    assert len(keep) > 0.98 * PARCELS
    assert shapely.equals_exact(old.geometry[keep].values, new.geometry[keep].values).all()
    assert old.loc[keep].drop(columns="geometry").equals(new.loc[keep].drop(columns="geometry"))
