"""The release diff against known edits (tests/history/conftest.py): every change found with its
kind and nothing else, areas against an independent shapely computation, audiences, ids that
cannot be matched, and the `release diff` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from publish.cli import main
from publish.domain import INTERNAL, PUBLIC
from publish.errors import DiffError
from publish.history.diff import ReleaseDiff, compare_releases, diff_releases
from publish.history.report import summary_line, summary_lines, write_diff
from publish.history.snapshot import open_snapshot
from publish.release.manifest import read_manifest, write_manifest
from tests.history.conftest import NEW_ID, OLD_ID, Pair
from tests.history.edits import copy_release, read_table

CRS = "EPSG:4546"


@pytest.fixture(scope="module")
def diffs(pair: Pair) -> dict[str, ReleaseDiff]:
    return compare_releases(pair.old, pair.new)


@pytest.fixture(scope="module")
def docs(diffs: dict[str, ReleaseDiff]) -> dict[str, dict[str, Any]]:
    return {audience: diff.to_dict() for audience, diff in diffs.items()}


def _found(doc: dict[str, Any]) -> dict[str, dict[tuple[Any, str], tuple[bool, frozenset[str]]]]:
    out: dict[str, dict[tuple[Any, str], tuple[bool, frozenset[str]]]] = {}
    for layer in doc["layers"]:
        for change in layer["changes"]:
            key = (change["id"], change["kind"])
            out.setdefault(layer["id"], {})[key] = (
                change["geometry"],
                frozenset(change["fields"]),
            )
    return out


def test_every_known_change_and_nothing_else(pair: Pair, docs: dict[str, dict[str, Any]]) -> None:
    assert _found(docs[INTERNAL]) == pair.truth.changes
    doc = docs[INTERNAL]
    assert doc["schema"] == "onemap-diff/1"
    assert (doc["old"]["release"], doc["new"]["release"]) == (OLD_ID, NEW_ID)
    changed = {layer["id"] for layer in doc["layers"] if layer["changes"]}
    assert changed == set(pair.truth.changes)
    summary = doc["summary"]
    truth = [kind for layer in pair.truth.changes.values() for _, kind in layer]
    assert summary["added"] == truth.count("added")
    assert summary["removed"] == truth.count("removed")
    assert summary["changed"] == truth.count("changed")


def test_attribute_changes_old_to_new(pair: Pair, docs: dict[str, dict[str, Any]]) -> None:
    ydyh = next(layer for layer in docs[INTERNAL]["layers"] if layer["id"] == "ydyh")
    for change in ydyh["changes"]:
        old, new = change["fields"]["YDYHFLDM"]
        assert old.startswith("07") and new == "0801"
        assert change["code"] == [old, new]
        assert change["area_m2"] == 0.0  # recoded, not redrawn
    cun = next(layer for layer in docs[INTERNAL]["layers"] if layer["id"] == "cun")
    moved = next(c for c in cun["changes"] if c["kind"] == "changed")
    assert moved["shift_m"] == pytest.approx(50, rel=0.01)
    assert moved["area_m2"] is None and cun["totals"].get("gained_m2") is None


def _clean_ids(frame: gpd.GeoDataFrame, other: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows whose BSM is present and repeated in neither table."""
    repeated = set(frame["BSM"][frame["BSM"].duplicated()]) | set(
        other["BSM"][other["BSM"].duplicated()]
    )
    return frame[frame["BSM"].notna() & ~frame["BSM"].isin(repeated)]


def _independent(pair: Pair, layer_id: str, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    """Gained and lost m² per changed feature and its county, computed with geopandas: an
    outer merge on BSM, differences both ways, a representative point joined to the counties.
    Pairs that moved less than 1 cm (Hausdorff) are not changes."""
    old, new = read_table(pair.old, layer_id, CRS), read_table(pair.new, layer_id, CRS)
    old, new = _clean_ids(old, new), _clean_ids(new, old)
    merged = pd.merge(
        pd.DataFrame({"BSM": old["BSM"].astype("int64"), "o": old.geometry.array}),
        pd.DataFrame({"BSM": new["BSM"].astype("int64"), "n": new.geometry.array}),
        on="BSM",
        how="outer",
    )
    o = np.asarray(merged["o"], dtype=object)
    n = np.asarray(merged["n"], dtype=object)
    both = ~pd.isna(merged["o"]).to_numpy() & ~pd.isna(merged["n"]).to_numpy()
    gained = np.where(both, 0.0, np.nan_to_num(shapely.area(n)))
    lost = np.where(both, 0.0, np.nan_to_num(shapely.area(o)))
    moved = both.copy()
    moved[both] = shapely.hausdorff_distance(o[both], n[both]) >= 0.01
    gained[moved] = shapely.area(shapely.difference(n[moved], o[moved]))
    lost[moved] = shapely.area(shapely.difference(o[moved], n[moved]))
    where = gpd.GeoSeries(np.where(pd.isna(merged["n"]), o, n), crs=CRS)
    points = gpd.GeoDataFrame(geometry=where.representative_point().to_crs("EPSG:4326"))
    joined = gpd.sjoin(points, counties[["XZQDM", "geometry"]], how="left", predicate="intersects")
    county = joined[~joined.index.duplicated()]["XZQDM"].to_numpy()
    return pd.DataFrame({"gained": gained, "lost": lost, "county": county})


@pytest.mark.parametrize("layer_id", ["dltb", "stbhhx", "ydyh"])
def test_areas_per_layer_and_county_match_shapely(
    pair: Pair, docs: dict[str, dict[str, Any]], layer_id: str
) -> None:
    doc = docs[INTERNAL]
    county_layer = doc["counties"]["layer"]
    counties = read_table(pair.new, county_layer, "EPSG:4326")
    truth = _independent(pair, layer_id, counties)
    layer = next(entry for entry in doc["layers"] if entry["id"] == layer_id)
    gained, lost = truth["gained"].sum(), truth["lost"].sum()
    assert layer["totals"]["gained_m2"] == pytest.approx(gained, rel=1e-3)
    assert layer["totals"]["lost_m2"] == pytest.approx(lost, rel=1e-3)
    assert layer["totals"]["gained_ha"] == pytest.approx(gained / 1e4, rel=1e-3)
    if layer_id == "dltb":
        assert gained > 1e5 and lost > 1e5  # the edits are there to be measured
    per_county = truth.groupby("county")[["gained", "lost"]].sum()
    units = {unit["code"]: unit["layers"] for unit in doc["counties"]["units"]}
    for code, row in per_county.iterrows():
        totals = units[code].get(layer_id, {"gained_m2": 0.0, "lost_m2": 0.0})
        assert totals["gained_m2"] == pytest.approx(row["gained"], rel=1e-3, abs=1.0), code
        assert totals["lost_m2"] == pytest.approx(row["lost"], rel=1e-3, abs=1.0), code


def test_land_use_classes_move_with_the_codes(pair: Pair, docs: dict[str, dict[str, Any]]) -> None:
    blocks = read_table(pair.old, "ydyh", CRS)
    recoded = blocks[blocks["BSM"].isin(pair.truth.recoded_blocks)]
    area = float(recoded.geometry.area.sum())
    land_use = docs[INTERNAL]["land_use"]
    assert land_use["layer"] == "ydyh" and land_use["field"] == "YDYHFLDM"
    classes = {entry["code"]: entry for entry in land_use["classes"]}
    assert set(classes) == {"07", "08"}
    assert classes["07"]["lost_m2"] == pytest.approx(area, rel=1e-3)
    assert classes["07"]["gained_m2"] == 0
    assert classes["08"]["gained_m2"] == pytest.approx(area, rel=1e-3)
    assert classes["08"]["name"] == "公共管理与公共服务用地"
    assert classes["08"]["net_ha"] == pytest.approx(area / 1e4, rel=1e-3)


def test_indicator_deltas(pair: Pair, docs: dict[str, dict[str, Any]]) -> None:
    for doc in docs.values():
        red_line = doc["indicators"]["city"]["red_line"]
        assert red_line["delta_km2"] == pytest.approx(pair.truth.red_line_delta_km2)
        assert red_line["new_km2"] - red_line["old_km2"] == pytest.approx(1.5)
        assert doc["indicators"]["city"]["farmland"]["delta_km2"] == 0
        assert {c["code"] for c in doc["indicators"]["counties"]} == {
            "430802",
            "430811",
            "430821",
            "430822",
        }


def test_missing_and_repeated_ids_are_reported_not_matched(
    pair: Pair, docs: dict[str, dict[str, Any]]
) -> None:
    dltb = next(layer for layer in docs[INTERNAL]["layers"] if layer["id"] == "dltb")
    assert dltb["ids"]["old"] == {
        "missing": 0,
        "missing_fids": [],
        "duplicated": 0,
        "duplicated_ids": [],
    }
    assert dltb["ids"]["new"] == {
        "missing": 1,
        "missing_fids": [pair.truth.missing_fid],
        "duplicated": 2,
        "duplicated_ids": [pair.truth.duplicated_bsm],
    }
    listed = {change["id"] for change in dltb["changes"]}
    assert pair.truth.duplicated_bsm not in listed
    assert any(
        "repeated BSM" in line and "dltb" in line
        for line in summary_lines(
            compare_releases(pair.old, pair.new, audiences=(INTERNAL,))[INTERNAL]
        )
    )


def test_public_diff_never_names_an_internal_layer(
    pair: Pair, diffs: dict[str, ReleaseDiff], tmp_path: Path
) -> None:
    internal_json, internal_html = write_diff(diffs[INTERNAL], tmp_path / INTERNAL)
    public_json, public_html = write_diff(diffs[PUBLIC], tmp_path / PUBLIC)
    for path in (internal_json, internal_html):
        assert "spxm" in path.read_text(encoding="utf-8")
    for path in (public_json, public_html):
        text = path.read_text(encoding="utf-8")
        assert "spxm" not in text and "在审建设项目" not in text, path.name
        assert "dltb" in text
    public = json.loads(public_json.read_text(encoding="utf-8"))
    assert public["audience"] == PUBLIC
    assert {layer["id"] for layer in public["layers"]} == {
        s.id for s in diffs[PUBLIC].new.catalog.layers if s.access == PUBLIC
    }
    spxm = pair.truth.changes["spxm"]
    internal = diffs[INTERNAL].to_dict()["summary"]
    assert public["summary"]["changed"] == internal["changed"] - sum(
        1 for _, kind in spxm if kind == "changed"
    )
    assert public["summary"]["added"] == internal["added"] - 1
    assert "spxm" not in "\n".join(summary_lines(diffs[PUBLIC]))
    html = internal_html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # a value, escaped
    assert "<script" not in html and "http" not in html


def test_one_line_per_layer_and_one_for_all(pair: Pair, diffs: dict[str, ReleaseDiff]) -> None:
    lines = summary_lines(diffs[INTERNAL])
    assert lines[0] == f"Changes {OLD_ID} → {NEW_ID} (internal):"
    changed = [line.split()[0] for line in lines[1:]]
    assert sorted(changed) == sorted(pair.truth.changes)  # hl's 1 mm is not a change
    dltb = next(line for line in lines if line.lstrip().startswith("dltb"))
    assert "+1 −4 ~6 (geometry 3, attributes 4)" in dltb and " ha −" in dltb
    one = summary_line(diffs[INTERNAL])
    assert one.startswith(f"{len(pair.truth.changes)} layers changed: ")
    assert "dltb +1 −4 ~6" in one and "ydyh ~2" in one and "spxm +1 ~1" in one
    public = summary_line(diffs[PUBLIC])
    assert "spxm" not in public and "dltb +1 −4 ~6" in public


def test_same_release_gives_an_empty_diff(pair: Pair) -> None:
    for use_fingerprints in (True, False):
        diff = diff_releases(pair.old, pair.old, INTERNAL, use_fingerprints=use_fingerprints)
        assert diff.empty
        assert all(layer.compared is not use_fingerprints for layer in diff.layers)
        doc = diff.to_dict()
        assert doc["summary"]["layers_changed"] == 0
        assert all(not layer["changes"] for layer in doc["layers"])
        assert summary_lines(diff) == [f"Changes {OLD_ID} → {OLD_ID} (internal): none"]
        assert summary_line(diff) == "no change"


def test_a_release_being_written_is_read_from_its_manifest(
    pair: Pair, docs: dict[str, dict[str, Any]]
) -> None:
    """A build diffs the release it stages before manifest.json exists: the manifest so far."""
    so_far = {k: v for k, v in read_manifest(pair.new).items() if k not in ("files", "log")}
    staged = open_snapshot(pair.new, so_far)
    diff = compare_releases(pair.old, staged, audiences=(INTERNAL,))[INTERNAL]
    assert _found(diff.to_dict()) == _found(docs[INTERNAL])


def test_fingerprints_only_skip_what_is_the_same(
    pair: Pair, docs: dict[str, dict[str, Any]]
) -> None:
    compared = {layer["id"] for layer in docs[INTERNAL]["layers"] if layer["compared"]}
    assert compared == {"dltb", "ydyh", "stbhhx", "cun", "hl", "spxm"}
    everything = diff_releases(pair.old, pair.new, INTERNAL, use_fingerprints=False).to_dict()
    assert _found(everything) == _found(docs[INTERNAL])


def test_a_layer_made_public_is_new_to_the_public(pair: Pair, tmp_path: Path) -> None:
    opened = copy_release(pair.new, tmp_path, "20270103T000000Z-0000cccc")
    manifest = read_manifest(opened)
    for entry in manifest["catalog"]["layers"]:
        if entry["id"] == "spxm":
            entry["access"] = PUBLIC
    write_manifest(opened, manifest)
    public = diff_releases(pair.old, opened, PUBLIC).to_dict()
    spxm = next(layer for layer in public["layers"] if layer["id"] == "spxm")
    assert spxm["status"] == "added"
    assert spxm["totals"]["added"] == spxm["features"]["new"] == 41
    internal = diff_releases(pair.old, opened, INTERNAL).to_dict()
    spxm = next(layer for layer in internal["layers"] if layer["id"] == "spxm")
    assert spxm["status"] == "kept" and spxm["catalog"] == {"access": ["internal", "public"]}


def test_a_layer_taken_out_of_the_catalog_is_removed(pair: Pair, tmp_path: Path) -> None:
    dropped = copy_release(pair.old, tmp_path, "20270103T000000Z-0000c0c0")
    manifest = read_manifest(dropped)
    manifest["catalog"]["layers"] = [
        entry for entry in manifest["catalog"]["layers"] if entry["id"] != "zrbhd"
    ]
    del manifest["layers"]["zrbhd"]
    write_manifest(dropped, manifest)
    for audience in (PUBLIC, INTERNAL):
        doc = diff_releases(pair.old, dropped, audience).to_dict()
        (zrbhd,) = [layer for layer in doc["layers"] if layer["id"] == "zrbhd"]
        old_count = read_manifest(pair.old)["layers"]["zrbhd"]["features"]
        assert zrbhd["status"] == "removed" and zrbhd["features"]["new"] == 0
        assert zrbhd["totals"]["removed"] == old_count == len(zrbhd["changes"])
        assert zrbhd["totals"]["lost_m2"] > 1e8  # the protected areas: hundreds of km²
        assert doc["summary"]["layers_changed"] == 1


def test_different_cities_are_refused(pair: Pair, tmp_path: Path) -> None:
    other = copy_release(pair.new, tmp_path, "20270103T000000Z-0000dddd")
    manifest = read_manifest(other)
    manifest["catalog"]["meta"]["city"]["code"] = "430900"
    write_manifest(other, manifest)
    with pytest.raises(DiffError, match="430800 and 430900"):
        compare_releases(pair.old, other)


# -- the command ---------------------------------------------------------------------------------


def test_command_prints_a_table_and_json(pair: Pair, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["release", "diff", OLD_ID, NEW_ID, "--out", str(pair.tiles)]) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0]: line for line in table.splitlines()[2:] if line.strip()}
    assert "spxm" in rows and "dltb" in rows and "xzq_xian" in rows
    assert rows["dltb"].split()[2:5] == ["1", "4", "6"]
    args = ["release", "diff", OLD_ID, NEW_ID, "--out", str(pair.tiles), "--json"]
    assert main([*args, "--audience", "public"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["audience"] == PUBLIC and "spxm" not in json.dumps(doc)


def test_command_writes_the_files(pair: Pair, tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = ["release", "diff", OLD_ID, NEW_ID, "--out", str(pair.tiles), "--save", str(out)]
    assert main(args) == 0
    assert json.loads((out / "diff.json").read_text(encoding="utf-8"))["new"]["release"] == NEW_ID
    assert "版本差异 Release diff" in (out / "diff.html").read_text(encoding="utf-8")


def test_command_unknown_release(pair: Pair, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = "20260101T000000Z-deadbeef"
    assert main(["release", "diff", OLD_ID, unknown, "--out", str(pair.tiles)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and unknown in err and "Traceback" not in err
    assert main(["release", "diff", "latest", NEW_ID, "--out", str(pair.tiles)]) == 2
    assert "'latest'" in capsys.readouterr().err
    assert main(["release", "diff", OLD_ID, "--out", str(pair.tiles)]) == 2
    assert "two release ids" in capsys.readouterr().err


def test_command_refuses_other_cities_and_damaged_releases(
    pair: Pair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiles = tmp_path / "tiles"
    shutil.copytree(pair.old, tiles / "releases" / OLD_ID)
    other = copy_release(pair.old, tiles, "20270104T000000Z-0000eeee")
    manifest = read_manifest(other)
    manifest["catalog"]["meta"]["city"]["code"] = "430900"
    write_manifest(other, manifest)
    assert main(["release", "diff", OLD_ID, other.name, "--out", str(tiles)]) == 2
    err = capsys.readouterr().err
    assert "different cities" in err and "430800" in err and "430900" in err

    damaged = copy_release(pair.new, tiles, "20270105T000000Z-0000ffff")
    with open(damaged / "features" / "public.gpkg", "r+b") as f:
        f.seek(4096)
        f.write(b"\x00" * 16)
    assert main(["release", "diff", OLD_ID, damaged.name, "--out", str(tiles)]) == 2
    err = capsys.readouterr().err
    assert damaged.name in err and "features/public.gpkg" in err and "sha256" in err


def test_row_hashes_give_the_diff_the_tables_give(
    pair: Pair, docs: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The built release carries each layer's row hashes; the diff that reads them (only the
    pairs whose hashes differ are compared) finds what the diff reading both tables finds."""
    rows = pair.new / "features" / "rows"
    held = {path.stem for path in rows.glob("*.npz")}
    assert "stbhhx" in held and "ydyh" in held  # edited, hashes rewritten
    assert "dltb" not in held  # the edit left a parcel without a BSM: no hashes, tables read
    bare = [copy_release(path, tmp_path, path.name) for path in (pair.old, pair.new)]
    for release in bare:
        shutil.rmtree(release / "features" / "rows")
    from_tables = {a: d.to_dict() for a, d in compare_releases(*bare).items()}
    for audience, doc in docs.items():
        assert {k: v for k, v in from_tables[audience].items() if k != "created"} == {
            k: v for k, v in doc.items() if k != "created"
        }
