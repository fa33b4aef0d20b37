"""The layers of the sample being revised (publish.sample.revision): their frames, the next free
id of each, and the edits — features removed, changed and added — that record which ids a step
touched, so that only those are compared afterwards (publish.sample.changes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ID = "BSM"  # the sample's id field (the catalog's id_field of every layer)
GRID = 0.01  # the centimetre grid every sample geometry is snapped to (writer.frame)


@dataclass
class LayerEdits:
    """The layers being revised, with the next free id of each and the ids a step touched."""

    frames: dict[str, gpd.GeoDataFrame]
    next_id: dict[str, int]
    touched: dict[str, set[int]] = field(default_factory=dict)

    def new_ids(self, layer: str, count: int) -> list[int]:
        start = self.next_id[layer]
        self.next_id[layer] = start + count
        return list(range(start, start + count))

    def edit(
        self,
        layer: str,
        *,
        removed: Iterable[int] = (),
        changed: dict[int, dict[str, Any]] | None = None,
        added: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Remove features by id, set some values of others ({id: {column: value}}, geometry
        included) and append whole new rows; the layer's other rows stay as they were."""
        frame = self.frames[layer]
        removed, changed = set(removed), changed or {}
        self.touched.setdefault(layer, set()).update(removed, changed, (row[ID] for row in added))
        out = frame.copy()
        if changed:
            positions = pd.Index(frame[ID]).get_indexer(list(changed))
            columns = {name for values in changed.values() for name in values}
            for name in columns:
                data = np.asarray(out[name].array, dtype=object).copy()
                for pos, values in zip(positions, changed.values(), strict=True):
                    if name in values:
                        data[pos] = values[name]
                out[name] = _column(data, frame[name], frame.crs)
        if removed:
            out = out[~out[ID].isin(removed)]
        if added:
            rows = gpd.GeoDataFrame(list(added), geometry="geometry", crs=frame.crs)
            rows = rows[list(frame.columns)].astype(
                {c: frame[c].dtype for c in frame.columns if c != "geometry"}
            )
            out = pd.concat([out, rows], ignore_index=True)
        self.frames[layer] = gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


def _column(data: np.ndarray, like: pd.Series, crs: Any) -> Any:
    if isinstance(like, gpd.GeoSeries):
        return gpd.GeoSeries(data, index=like.index, crs=crs)
    return pd.Series(data, index=like.index).astype(like.dtype)


def snap(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.set_precision(geom, GRID)


def shaped(geom: shapely.Geometry) -> dict[str, Any]:
    """A new geometry and the MJ that goes with it (the true area, as writer.frame gives)."""
    return {"geometry": geom, "MJ": round(float(shapely.area(geom)), 2)}
