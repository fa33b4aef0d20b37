"""Small generated layers near Zhangjiajie for the tippecanoe tests (EPSG:4326 frames)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

LON0, LAT0 = 110.48, 29.13  # near Zhangjiajie
CELL = 0.001  # ~100 m
NAMES = ["天门山国家森林公园", "张家界市人民政府", "永定区·大庸古城", "澧水大桥（北）"]


def parcels(nx: int = 20, ny: int = 15, cell: float = CELL) -> gpd.GeoDataFrame:
    """nx*ny adjacent squares (shared edges), with a code, an area, a NaN and an unwanted column."""
    i = np.arange(nx * ny)
    x0 = LON0 + (i % nx) * cell
    y0 = LAT0 + (i // nx) * cell
    return gpd.GeoDataFrame(
        {
            "DLBM": np.where(i % 2 == 0, "0101", "0702"),
            "DLMC": np.where(i % 2 == 0, "水田", "城镇住宅用地"),
            "MJ": np.float64(cell * 1e5) ** 2 + i.astype(np.float64),
            "GHYT": np.where(i % 7 == 0, np.nan, 1.0),  # NaN → attribute omitted
            "SECRET": "do not publish",
        },
        geometry=shapely.box(x0, y0, x0 + cell, y0 + cell),
        crs=4326,
    )


def roads() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(LON0, LAT0 + k * 0.003), (LON0 + 0.02, LAT0 + k * 0.003 + 0.001)])
        for k in range(5)
    ]
    return gpd.GeoDataFrame(
        {"DLDJ": np.arange(5, dtype=np.int32), "NAME": [f"道路{k}" for k in range(5)]},
        geometry=lines,
        crs=4326,
    )


def places() -> gpd.GeoDataFrame:
    pts = [shapely.Point(LON0 + 0.0013 + k * 0.0031, LAT0 + 0.0007 + k * 0.0023) for k in range(4)]
    return gpd.GeoDataFrame(
        {"NAME": NAMES, "RANK": np.arange(4, dtype=np.int64), "X": 0}, geometry=pts, crs=4326
    )


def batches(gdf: gpd.GeoDataFrame, size: int) -> list[gpd.GeoDataFrame]:
    return [gdf.iloc[k : k + size] for k in range(0, len(gdf), size)]
