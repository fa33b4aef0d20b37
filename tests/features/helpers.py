"""Small generated layers for the feature-store tests (EPSG:4326, near Zhangjiajie)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from publish.features.store import LayerTableInfo, LayerTableWriter

LON0, LAT0 = 110.40, 29.05
CELL = 0.002  # ~200 m
NX = 40  # squares per row
FIELDS = ("BSM", "YDYHFLDM", "YDYHFLMC", "NUM", "MJ")
NAMES = ("城镇住宅用地", "水田", "张家界·天门山（北）", "公园绿地")


def squares(fids: Sequence[int] | np.ndarray) -> gpd.GeoDataFrame:
    """One square per fid on a grid (position from the fid), attributes derived from the fid."""
    fid = np.asarray(fids, dtype="int64")
    k = fid - 1
    x = LON0 + (k % NX) * CELL
    y = LAT0 + (k // NX) * CELL
    return gpd.GeoDataFrame(
        {
            "fid": fid,
            "BSM": [f"430802{v:012d}" for v in fid],
            "YDYHFLDM": np.where(k % 2 == 0, "0701", "0101"),
            "YDYHFLMC": [NAMES[int(v) % len(NAMES)] for v in k],
            "NUM": (fid * 7).astype("int64"),
            "MJ": fid * 1.25,
            "area_m2": 40_000.0 + fid,
            "EXTRA": "not stored",
        },
        geometry=shapely.box(x, y, x + CELL * 0.9, y + CELL * 0.9),
        crs="EPSG:4326",
    )


def write_layer(
    path: Path,
    batches: Sequence[gpd.GeoDataFrame],
    layer_id: str = "ydyh",
    fields: Sequence[str] = FIELDS,
    geometry: str = "polygon",
    indexed: Sequence[str] = (),
) -> LayerTableInfo:
    writer = LayerTableWriter(path, layer_id, fields, geometry, indexed)
    for batch in batches:
        writer.append(batch)
    return writer.close()


def frame_lines(fids: Sequence[int]) -> gpd.GeoDataFrame:
    fid = np.asarray(fids, dtype="int64")
    x = LON0 + fid * CELL
    geoms = [
        shapely.LineString([(a, LAT0), (a + CELL, LAT0 + CELL)])
        if i % 2
        else shapely.MultiLineString(
            [[(a, LAT0), (a, LAT0 + CELL)], [(a, LAT0 + 2 * CELL), (a + CELL, LAT0 + 3 * CELL)]]
        )
        for i, a in enumerate(x)
    ]
    return gpd.GeoDataFrame(
        {"fid": fid, "HLMC": [f"澧水支流{v}" for v in fid], "area_m2": np.nan},
        geometry=geoms,
        crs="EPSG:4326",
    )


def frame_points(fids: Sequence[int]) -> gpd.GeoDataFrame:
    fid = np.asarray(fids, dtype="int64")
    return gpd.GeoDataFrame(
        {
            "fid": fid,
            "CJMC": [f"村{v}" for v in fid],
            "LX": pd.array([1 if v % 2 else None for v in fid], dtype="Int64"),
            "area_m2": np.nan,
        },
        geometry=shapely.points(LON0 + fid * CELL, LAT0 - CELL),
        crs="EPSG:4326",
    )
