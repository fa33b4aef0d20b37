"""Two releases that differ by known edits: the session's full release copied twice into a
tiles folder of its own, the second copy's tables edited (tests/history/edits.py). `truth`
says what each edit must show up as in the diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from publish.pipeline.build import BuildResult
from publish.release.manifest import read_manifest
from tests.history.edits import copy_release, edit_layers

OLD_ID = "20270101T000000Z-0000aaaa"
NEW_ID = "20270102T000000Z-0000bbbb"


@dataclass
class Truth:
    """What the diff of OLD_ID → NEW_ID must report, per layer: (id, kind) → the changed fields
    (for `changed`: and whether the geometry changed)."""

    changes: dict[str, dict[tuple[Any, str], tuple[bool, frozenset[str]]]] = field(
        default_factory=dict
    )
    missing_fid: int = 0  # dltb: the new feature id whose BSM was removed
    duplicated_bsm: int = 0  # dltb: the BSM two new features carry
    recoded_blocks: tuple[int, ...] = ()  # ydyh: 07xx → 0801
    red_line_delta_km2: float = 1.5

    def add(self, layer: str, key: Any, kind: str, geometry: bool, fields: set[str]) -> None:
        self.changes.setdefault(layer, {})[(key, kind)] = (geometry, frozenset(fields))


@dataclass(frozen=True)
class Pair:
    tiles: Path
    old: Path
    new: Path
    truth: Truth


def _pick(frame: gpd.GeoDataFrame, n: int, start: int = 0) -> list[int]:
    """n row positions of a frame sorted by BSM, from a start, spread over the table."""
    order = np.argsort(frame["BSM"].to_numpy())
    step = max(1, len(order) // (n + 2))
    return [int(order[start + step * (i + 1)]) for i in range(n)]


def _shift(geom: shapely.Geometry, metres: float) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: xy + metres)


def _dltb(truth: Truth):  # type: ignore[no-untyped-def]
    def edit(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        f = f.copy()
        f["BSM"] = f["BSM"].astype("Int64")
        bsm = f["BSM"]
        picked = _pick(f, 12, start=3)
        grown, split, both, r1, r2, gone, q1, q2, *noisy = picked
        others = np.flatnonzero((f["DLBM"] != "0301").to_numpy())
        others = others[~np.isin(others, picked)]
        for r in others[[10, 200, 400]]:  # recoded: attributes only
            f.iloc[r, f.columns.get_loc("DLBM")] = "0301"
            f.iloc[r, f.columns.get_loc("DLMC")] = "乔木林地"
            truth.add("dltb", int(bsm.iloc[r]), "changed", False, {"DLBM", "DLMC"})
        g = f.geometry.copy()
        g.iloc[grown] = g.iloc[grown].buffer(20)
        truth.add("dltb", int(bsm.iloc[grown]), "changed", True, set())
        minx, _, maxx, _ = g.iloc[split].bounds
        middle = (minx + maxx) / 2
        whole = g.iloc[split]
        left = whole.intersection(shapely.box(minx - 1, -1e8, middle, 1e8))
        right = whole.intersection(shapely.box(middle, -1e8, maxx + 1, 1e8))
        g.iloc[split] = left
        truth.add("dltb", int(bsm.iloc[split]), "changed", True, set())
        g.iloc[both] = shapely.affinity.translate(g.iloc[both], 30, 0)
        f.iloc[both, f.columns.get_loc("ZLDWMC")] = "新村"
        truth.add("dltb", int(bsm.iloc[both]), "changed", True, {"ZLDWMC"})
        for r in noisy:  # 1 mm: under the tolerance, not a change
            g.iloc[r] = _shift(g.iloc[r], 0.001)
        f = f.set_geometry(g)
        new_bsm = int(bsm.max()) + 1
        added = f.iloc[[split]].copy()
        added["BSM"] = pd.array([new_bsm], dtype="Int64")
        added["fid"] = int(f["fid"].max()) + 1
        added = added.set_geometry(gpd.GeoSeries([right], crs=f.crs, index=added.index))
        truth.add("dltb", new_bsm, "added", True, set())
        for r in (r1, r2):
            truth.add("dltb", int(bsm.iloc[r]), "removed", True, set())
        truth.add("dltb", int(bsm.iloc[gone]), "removed", True, set())  # its BSM is cleared
        truth.missing_fid = int(f["fid"].iloc[gone])
        truth.add("dltb", int(bsm.iloc[q2]), "removed", True, set())  # takes q1's BSM
        truth.duplicated_bsm = int(bsm.iloc[q1])
        f.iloc[gone, f.columns.get_loc("BSM")] = pd.NA
        f.iloc[q2, f.columns.get_loc("BSM")] = bsm.iloc[q1]
        f = f.drop(f.index[[r1, r2]])
        return gpd.GeoDataFrame(pd.concat([f, added], ignore_index=True), crs=f.crs)

    return edit


def _ydyh(truth: Truth):  # type: ignore[no-untyped-def]
    def edit(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        f = f.copy()
        homes = f.index[f["YDYHFLDM"].str.startswith("07")][[5, 50]]
        f.loc[homes, "YDYHFLDM"] = "0801"
        f.loc[homes, "YDYHFLMC"] = "机关团体用地"
        truth.recoded_blocks = tuple(int(b) for b in f.loc[homes, "BSM"])
        for b in truth.recoded_blocks:
            truth.add("ydyh", b, "changed", False, {"YDYHFLDM", "YDYHFLMC"})
        return f

    return edit


def _stbhhx(truth: Truth):  # type: ignore[no-untyped-def]
    def edit(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        (gone,) = _pick(f, 1)
        truth.add("stbhhx", int(f["BSM"].iloc[gone]), "removed", True, set())
        patch = f.iloc[[0]].copy()
        patch["BSM"] = int(f["BSM"].max()) + 1
        patch["fid"] = int(f["fid"].max()) + 1
        centre = f.geometry.iloc[gone].centroid
        patch = patch.set_geometry(
            gpd.GeoSeries([centre.buffer(800)], crs=f.crs, index=patch.index)
        )
        truth.add("stbhhx", int(patch["BSM"].iloc[0]), "added", True, set())
        return gpd.GeoDataFrame(pd.concat([f.drop(f.index[gone]), patch]), crs=f.crs)

    return edit


def _cun(truth: Truth):  # type: ignore[no-untyped-def]
    def edit(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        f = f.copy()
        (moved,) = _pick(f, 1)
        f.loc[f.index[moved], "geometry"] = shapely.affinity.translate(
            f.geometry.iloc[moved], 50, 0
        )
        truth.add("cun", int(f["BSM"].iloc[moved]), "changed", True, set())
        village = f.iloc[[0]].copy()
        village["BSM"] = int(f["BSM"].max()) + 1
        village["fid"] = int(f["fid"].max()) + 1
        village["CJMC"] = "新建村"
        truth.add("cun", int(village["BSM"].iloc[0]), "added", True, set())
        return gpd.GeoDataFrame(pd.concat([f, village]), crs=f.crs)

    return edit


def _hl(truth: Truth):  # type: ignore[no-untyped-def]
    def edit(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        f = f.copy()
        f.loc[f.index[0], "geometry"] = _shift(f.geometry.iloc[0], 0.001)  # noise: no change
        return f

    return edit


def _spxm(truth: Truth):  # type: ignore[no-untyped-def]
    def edit(f: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        f = f.copy()
        f.loc[f.index[3], "SPZT"] = "已批准<script>alert(1)</script>"  # escaped on the page
        truth.add("spxm", int(f["BSM"].iloc[3]), "changed", False, {"SPZT"})
        project = f.iloc[[0]].copy()
        project["BSM"] = int(f["BSM"].max()) + 1
        project["fid"] = int(f["fid"].max()) + 1
        truth.add("spxm", int(project["BSM"].iloc[0]), "added", True, set())
        return gpd.GeoDataFrame(pd.concat([f, project]), crs=f.crs)

    return edit


@pytest.fixture(scope="session")
def pair(full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Pair:
    tiles = tmp_path_factory.mktemp("history")
    old = copy_release(full_release.path, tiles, OLD_ID)
    new = copy_release(full_release.path, tiles, NEW_ID)
    truth = Truth()
    indicators = read_manifest(new)["indicators"]
    for audience in indicators.values():
        audience["city"]["red_line"]["area_km2"] += truth.red_line_delta_km2
    edits = {
        "dltb": _dltb(truth),
        "ydyh": _ydyh(truth),
        "stbhhx": _stbhhx(truth),
        "cun": _cun(truth),
        "hl": _hl(truth),
        "spxm": _spxm(truth),
    }
    edit_layers(new, edits, indicators=indicators)
    return Pair(tiles, old, new, truth)
