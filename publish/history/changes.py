"""A layer's change table: one row per added, removed or changed feature, built from what
publish.history.matching found, with the geometry measured by publish.history.measure.

Columns (:data:`CHANGE_COLUMNS`): ``id``; ``kind`` (added, removed, changed); ``geometry`` and
``attributes`` (what changed: added and removed features count as a geometry change);
``fields`` (changed attributes: name → (old, new), else None); ``area_m2`` (signed: new area −
old area, 0 when only attributes changed), ``gained_m2``/``lost_m2`` and
``old_area_m2``/``new_area_m2`` (polygons; NaN for lines and points); ``shift_m`` (lines and
points: how far a changed geometry moved); ``old_code``/``new_code`` (the layer's code field);
``lon``/``lat`` (a point on the feature: the new geometry's, the old one's when removed).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import shapely

from publish.catalog import LayerSpec
from publish.history.matching import LayerMatch, Rows
from publish.history.measure import (
    Projector,
    Tolerance,
    areas,
    compare_geometries,
    parse,
    points,
)

__all__ = ["ADDED", "CHANGED", "CHANGE_COLUMNS", "KINDS", "REMOVED", "change_table", "empty"]

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
KINDS = (ADDED, REMOVED, CHANGED)
CHANGE_COLUMNS = (
    "id",
    "kind",
    "geometry",
    "attributes",
    "fields",
    "area_m2",
    "gained_m2",
    "lost_m2",
    "old_area_m2",
    "new_area_m2",
    "shift_m",
    "old_code",
    "new_code",
    "lon",
    "lat",
)
_FLOATS = ("area_m2", "gained_m2", "lost_m2", "old_area_m2", "new_area_m2", "shift_m", "lon", "lat")


def empty() -> pd.DataFrame:
    """A change table without rows."""
    return _empty().copy()


@cache
def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in CHANGE_COLUMNS})
    return frame.astype({"geometry": bool, "attributes": bool, **dict.fromkeys(_FLOATS, float)})


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(columns)[list(CHANGE_COLUMNS)]


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def change_table(
    match: LayerMatch, spec: LayerSpec, crs: str, tolerance: Tolerance, where: str
) -> pd.DataFrame:
    """The layer's changes: added, then removed, then changed features, each in feature id
    order. `where` names the layer in errors (a geometry blob that cannot be read)."""
    projector = Projector(crs)
    parts = [
        _whole(ADDED, match.added, spec, projector, where),
        _whole(REMOVED, match.removed, spec, projector, where),
        _changed(match, spec, projector, tolerance, where),
    ]
    return pd.concat([p for p in parts if len(p)] or [empty()], ignore_index=True)


def _whole(
    kind: str, rows: Rows, spec: LayerSpec, projector: Projector, where: str
) -> pd.DataFrame:
    """The change table of added (or removed) features: their whole area gained (or lost)."""
    if not len(rows.fids):
        return empty()
    geoms = parse(rows.blobs, where)
    lon, lat = points(geoms)
    polygons = spec.geometry == "polygon"
    n = len(geoms)
    area = areas(projector.project(geoms)) if polygons else np.full(n, np.nan)
    zero = np.zeros(n) if polygons else np.full(n, np.nan)
    added = kind == ADDED
    return _frame(
        {
            "id": rows.ids,
            "kind": np.full(n, kind, dtype=object),
            "geometry": np.ones(n, dtype=bool),
            "attributes": np.zeros(n, dtype=bool),
            "fields": np.full(n, None, dtype=object),
            "area_m2": area if added else -area,
            "gained_m2": area if added else zero,
            "lost_m2": zero if added else area,
            "old_area_m2": zero if added else area,
            "new_area_m2": area if added else zero,
            "shift_m": np.full(n, np.nan),
            "old_code": np.full(n, None, dtype=object) if added else rows.codes,
            "new_code": rows.codes if added else np.full(n, None, dtype=object),
            "lon": lon,
            "lat": lat,
        }
    )


def _changed(
    match: LayerMatch, spec: LayerSpec, projector: Projector, tolerance: Tolerance, where: str
) -> pd.DataFrame:
    """The change table of matched features whose geometry (beyond the tolerance) or
    attributes changed."""
    d = match.differing
    if not len(d.old_fids):
        return empty()
    old, new = parse(d.old_blobs, where), parse(d.new_blobs, where)
    polygons = spec.geometry == "polygon"
    geo = compare_geometries(
        old, new, d.geometry, polygons=polygons, projector=projector, tolerance=tolerance
    )
    attributes = np.zeros(len(new), dtype=bool)
    for flags in d.changed.values():
        attributes |= flags
    keep = geo.changed | attributes
    idx = np.flatnonzero(keep)
    fields: list[dict[str, tuple[Any, Any]]] = [{} for _ in idx]
    position = np.full(len(new), -1)
    position[idx] = np.arange(len(idx))
    for name, flags in d.changed.items():
        for i in np.flatnonzero(flags & keep):
            fields[position[i]][name] = (d.old_values[name][i], d.new_values[name][i])
    lon, lat = points(np.where(shapely.is_missing(new[idx]), old[idx], new[idx]))
    net = np.where(geo.changed, geo.new_area - geo.old_area, 0.0)
    nan = np.full(len(idx), np.nan)
    none = np.full(len(idx), None, dtype=object)
    code = spec.code_field or ""
    return _frame(
        {
            "id": d.ids[idx],
            "kind": np.full(len(idx), CHANGED, dtype=object),
            "geometry": geo.changed[idx],
            "attributes": attributes[idx],
            "fields": _objects(fields),
            "area_m2": net[idx] if polygons else nan,
            "gained_m2": geo.gained[idx] if polygons else nan,
            "lost_m2": geo.lost[idx] if polygons else nan,
            "old_area_m2": geo.old_area[idx] if polygons else nan,
            "new_area_m2": geo.new_area[idx] if polygons else nan,
            "shift_m": geo.shift_m[idx],
            "old_code": d.old_values[code][idx] if code in d.old_values else none,
            "new_code": d.new_values[code][idx] if code in d.new_values else none,
            "lon": lon,
            "lat": lat,
        }
    )
