"""The current-use parcels in a revision of the sample: the annual change survey (年度变更调查)
splits some parcels (the pieces get new ids, the old id goes), merges others with a neighbour
(one id stays, the other goes) and recodes others, all with national land-use codes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from publish.sample.edits import ID, LayerEdits, shaped, snap
from publish.sample.landuse import class_name

PARCEL_SHARE = 0.005
# current-use parcels recoded by the annual change survey (年度变更调查): from → possible codes
SURVEY_RECODES: dict[str, tuple[str, ...]] = {
    "0101": ("0103", "0701", "1001"),
    "0102": ("0101",),
    "0103": ("0101", "0201", "0703", "0701"),
    "0201": ("0103", "0301"),
    "0202": ("0201",),
    "0301": ("0302", "0304", "0103", "1202"),
    "0302": ("0301",),
    "0303": ("0301", "0304"),
    "0304": ("0301", "0103"),
    "0401": ("0301",),
    "0601": ("0301",),
    "0701": ("0901", "0804"),
    "0703": ("0701", "0103"),
    "1001": ("1101", "0701"),
    "2307": ("0401",),
}


def resurvey_parcels(rng: np.random.Generator, layers: LayerEdits) -> None:
    """About 0.5 % of the parcels, a third each split, merged with a neighbour, recoded."""
    parcels = layers.frames["dltb"]
    geoms = parcels.geometry.to_numpy()
    codes = parcels["DLBM"].to_numpy()
    bsm = parcels[ID].to_numpy()
    count = max(3, round(PARCEL_SHARE * len(parcels)))
    order = rng.permutation(len(parcels))
    recodable = order[np.isin(codes[order], list(SURVEY_RECODES))]
    recode = recodable[: count // 3]
    used = set(recode.tolist())
    # candidates three times as many as needed: most can be split or merged
    split = _split_parcels(rng, geoms, [p for p in order[:count] if p not in used], count // 3)
    used.update(split)
    pool = [p for p in order[count : 2 * count] if p not in used]
    merged = _merge_pairs(geoms, parcels["XZQDM"].to_numpy(), pool, used, count - 2 * (count // 3))

    changed: dict[int, dict[str, Any]] = {}
    for pos in recode:
        code = str(rng.choice(SURVEY_RECODES[str(codes[pos])]))
        changed[int(bsm[pos])] = {"DLBM": code, "DLMC": class_name(code)}
    for keep, _, geom in merged:
        changed[int(bsm[keep])] = shaped(geom)
    removed = [int(bsm[gone]) for _, gone, _ in merged]
    added = []
    numbers = _next_numbers(parcels["TBBH"], 2 * len(split))
    ids = layers.new_ids("dltb", 2 * len(split))
    for n, (pos, pieces) in enumerate(split.items()):
        removed.append(int(bsm[pos]))
        base = parcels.iloc[pos].to_dict()
        for m, piece in enumerate(pieces):
            row = {**base, ID: ids[2 * n + m], "TBBH": numbers[2 * n + m], **shaped(piece)}
            old = str(codes[pos])
            if m == 1 and old in SURVEY_RECODES:  # the part whose use changed, hence the split
                code = str(rng.choice(SURVEY_RECODES[old]))
                row.update(DLBM=code, DLMC=class_name(code))
            added.append(row)
    layers.edit("dltb", removed=removed, changed=changed, added=added)


def _split_parcels(
    rng: np.random.Generator, geoms: np.ndarray, candidates: list[int], count: int
) -> dict[int, tuple[Polygon, Polygon]]:
    """Cut parcels in two along a line near their centre (vectorised over the candidates); the
    first `count` whose two pieces are single polygons of at least a fifth each."""
    pos = np.asarray(candidates, dtype=np.int64)
    if count == 0 or len(pos) == 0:
        return {}
    cells = geoms[pos]
    centre = shapely.get_coordinates(shapely.centroid(cells))
    size = np.sqrt(shapely.area(cells))
    centre = centre + rng.uniform(-0.15, 0.15, (len(pos), 2)) * size[:, None]
    angle = rng.uniform(0, np.pi, len(pos))
    along = np.column_stack([np.cos(angle), np.sin(angle)]) * (4 * size[:, None])
    across = np.column_stack([-along[:, 1], along[:, 0]])
    corners = [centre - along, centre + along, centre + along + across, centre - along + across]
    half = shapely.polygons(np.stack(corners, 1))
    first = snap(shapely.intersection(cells, half))
    second = snap(shapely.difference(cells, half))
    whole = shapely.area(cells)
    good = (
        (shapely.get_type_id(first) == 3)
        & (shapely.get_type_id(second) == 3)
        & (shapely.area(first) > 0.2 * whole)
        & (shapely.area(second) > 0.2 * whole)
    )
    return {int(pos[i]): (first[i], second[i]) for i in np.flatnonzero(good)[:count]}


def _merge_pairs(
    geoms: np.ndarray, towns: np.ndarray, candidates: list[int], used: set[int], count: int
) -> list[tuple[int, int, Polygon]]:
    """(kept, absorbed, merged geometry): each candidate with the neighbour of its township it
    shares the longest edge with, neither in another change."""
    pos = np.asarray(candidates, dtype=np.int64)
    if count == 0 or len(pos) == 0:
        return []
    left, right = shapely.STRtree(geoms).query(geoms[pos], predicate="touches")
    a, b = pos[left], right
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
    )
    pairs: list[tuple[int, int]] = []
    taken = set(used)
    for i in np.lexsort((-shared, left)):
        keep, gone = int(a[i]), int(b[i])
        if keep in taken or gone in taken or shared[i] < 1.0 or towns[keep] != towns[gone]:
            continue
        pairs.append((keep, gone))
        taken.update((keep, gone))
        if len(pairs) == count:
            break
    if not pairs:
        return []
    keeps, gones = np.array(pairs).T
    merged = snap(shapely.union(geoms[keeps], geoms[gones]))
    whole = shapely.get_type_id(merged) == 3
    return [
        (int(k), int(g), m)
        for k, g, m in zip(keeps[whole], gones[whole], merged[whole], strict=True)
    ]


def _next_numbers(numbers: pd.Series, count: int) -> list[str]:
    """Parcel numbers (TBBH) after the highest in use, as wide as the others."""
    width = int(numbers.str.len().max())
    start = int(numbers.astype(np.int64).max()) + 1
    return [str(n).zfill(width) for n in range(start, start + count)]
