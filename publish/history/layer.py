"""The changes as a map layer (`changes`): the features a diff lists as added, removed or
changed in geometry, with their geometry — the new one, or the old one for a removed feature —
and the properties `layer` (layer id), `id` (the feature's id, as text) and `kind`. It is read
from the diff document (diff.json) and the two releases' feature stores, so an audience's layer
holds exactly what its diff names (the public one never an internal layer's feature)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from publish.errors import DiffError
from publish.features.store import STORE_CRS
from publish.gpkg.schema import quote
from publish.history.changes import ADDED, CHANGED, REMOVED

CHANGES_LAYER = "changes"
FIELDS = ("layer", "id", "kind")
_IDS_PER_QUERY = 2_000


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DiffError(f"feature id {value!r} is neither an integer nor text")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def _read(gpkg: Path, layer: str, id_field: str, ids: Sequence[Any]) -> gpd.GeoDataFrame:
    """The features of `layer` whose `id_field` is one of `ids`: that column and geometry."""
    parts = []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ", ".join(_literal(v) for v in ids[start : start + _IDS_PER_QUERY])
        parts.append(
            pyogrio.read_dataframe(
                gpkg, layer=layer, columns=[id_field], where=f"{quote(id_field)} IN ({chunk})"
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else gpd.GeoDataFrame()


def _wanted(layer: Mapping[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    """(kind, ids) of one layer's entry in the diff: what the map layer shows of it."""
    changes = layer.get("changes") or []
    for kind in (ADDED, REMOVED, CHANGED):
        ids = [
            c["id"]
            for c in changes
            if c.get("kind") == kind and (kind != CHANGED or c.get("geometry"))
        ]
        if ids:
            yield kind, ids


def changes_frame(diff: Mapping[str, Any], old_store: Path, new_store: Path) -> gpd.GeoDataFrame:
    """The `changes` layer of the diff document `diff` (EPSG:4326): new geometries from the
    feature store `new_store`, removed ones from `old_store` (each the store holding every layer
    the diff names)."""
    frames = []
    for layer in diff.get("layers") or []:
        for kind, ids in _wanted(layer):
            store = old_store if kind == REMOVED else new_store
            found = _read(store, str(layer["id"]), str(layer["id_field"]), ids)
            if len(found) == 0:
                continue
            frames.append(
                gpd.GeoDataFrame(
                    {
                        "layer": str(layer["id"]),
                        "id": found[str(layer["id_field"])].astype(str).to_numpy(),
                        "kind": kind,
                    },
                    geometry=found.geometry.to_numpy(),
                    crs=STORE_CRS,
                )
            )
    if not frames:
        return gpd.GeoDataFrame({f: [] for f in FIELDS}, geometry=[], crs=STORE_CRS)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORE_CRS)
