"""The record of what a revision of the sample changed (changes.json): per layer, one entry per
feature that was added, removed or changed, found by comparing the layer before and after.

A feature is known by its id (the catalog's `id_field`, BSM). An entry is
`{"id": BSM, "kind": K, "fields": [...], "area_m2": A}` where K is `added`, `removed`,
`geometry`, `attributes` or `geometry+attributes`; `fields` names the attributes whose values
changed (empty unless K has attributes: MJ follows a new geometry, so a reshaped polygon is
`geometry+attributes` with `["MJ"]`); A is the signed change of the feature's area in the frames'
CRS (the catalog's `city.crs`), 0 for attribute changes and for points and lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

ADDED = "added"
REMOVED = "removed"
GEOMETRY = "geometry"
ATTRIBUTES = "attributes"
BOTH = "geometry+attributes"


def compare_features(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, ids: Iterable[int], id_field: str = "BSM"
) -> list[dict[str, Any]]:
    """The entries for `ids` (the features an edit touched), in id order; a touched feature
    that ended up as it was gives none. Only these rows are compared, so a 1,000,000-row layer
    with a few thousand edits costs a lookup, not a full comparison."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    old = _rows(before, wanted, id_field)
    new = _rows(after, wanted, id_field)
    shape = after.geometry.name
    fields = [c for c in after.columns if c not in (id_field, shape)]
    entries = []
    for key in wanted:
        a, b = old.get(key), new.get(key)
        if a is None and b is None:
            continue
        if a is None or b is None:
            kind = ADDED if a is None else REMOVED
            geom = (b if b is not None else a)[shape]  # type: ignore[index]
            area = float(shapely.area(geom))
            entries.append(_entry(key, kind, [], area if kind == ADDED else -area))
            continue
        old_geom, new_geom = a[shape], b[shape]
        moved = not shapely.equals_exact(old_geom, new_geom, tolerance=0.0)
        changed = [f for f in fields if not _same(a[f], b[f])]
        if not moved and not changed:
            continue
        kind = BOTH if moved and changed else GEOMETRY if moved else ATTRIBUTES
        entries.append(
            _entry(key, kind, changed, float(shapely.area(new_geom) - shapely.area(old_geom)))
        )
    return entries


def _rows(frame: gpd.GeoDataFrame, ids: list[int], id_field: str) -> dict[int, dict[str, Any]]:
    picked = frame[frame[id_field].isin(ids)]
    return {int(row[id_field]): row for row in picked.to_dict("records")}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return bool(a == b or (np.isnan(a) and np.isnan(b)))
    return bool(a == b)


def _entry(key: int, kind: str, fields: list[str], area: float) -> dict[str, Any]:
    return {"id": key, "kind": kind, "fields": fields, "area_m2": round(area, 2)}


def write_changes(out: Path, doc: dict[str, Any]) -> Path:
    path = out / "changes.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
