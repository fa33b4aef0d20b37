"""`--with-defects`: known defects the review must find, one of each kind, listed in defects.json."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

from publish.sample.writer import LayerOut


def _by_id(items: list[LayerOut], layer_id: str) -> LayerOut:
    return next(item for item in items if item.entry["id"] == layer_id)


def add_defects(rng: np.random.Generator, items: list[LayerOut]) -> list[dict[str, Any]]:
    defects: list[dict[str, Any]] = []
    red = _by_id(items, "stbhhx")
    farm = _by_id(items, "yjjbnt")
    urban = _by_id(items, "czkfbj")
    plan = _by_id(items, "ydyh")

    # 1. a farmland parcel drawn 120 m into the red line: the two lines overlap
    host = red.frame.geometry.iloc[int(np.argmax(red.frame.geometry.area.values))]
    edge = host.exterior.interpolate(0.3, normalized=True)
    square = shapely.box(edge.x - 60, edge.y - 60, edge.x + 60, edge.y + 60)
    new_bsm = int(farm.frame["BSM"].max()) + 1
    row = farm.frame.iloc[[0]].copy()
    row["BSM"] = new_bsm
    row["TBBH"] = "999999"
    row = row.set_geometry(gpd.GeoSeries([square], crs=farm.frame.crs, index=row.index))
    row["MJ"] = round(square.area, 2)
    farm.frame = pd.concat([farm.frame, row], ignore_index=True)
    defects.append({
        "kind": "control_line_overlap", "layer": "yjjbnt", "other_layer": "stbhhx",
        "bsm": new_bsm, "area_m2": round(square.intersection(host).area, 1),
        "lonlat": _lonlat(edge.x, edge.y),
    })  # fmt: skip

    # 2. a self-intersecting (bow-tie) farmland parcel
    index = 10
    coords = list(farm.frame.geometry.iloc[index].exterior.coords)[:4]
    bowtie = Polygon([coords[0], coords[1], coords[3], coords[2]])
    farm.frame.loc[index, "geometry"] = bowtie
    defects.append({
        "kind": "invalid_geometry", "layer": "yjjbnt", "bsm": int(farm.frame["BSM"].iloc[index]),
        "lonlat": _lonlat(*bowtie.centroid.coords[0]),
    })  # fmt: skip

    # 3. a land-use code outside the national classification
    index = int(rng.integers(len(plan.frame)))
    plan.frame.loc[index, "YDYHFLDM"] = "0799"
    defects.append({
        "kind": "unknown_code", "layer": "ydyh", "bsm": int(plan.frame["BSM"].iloc[index]),
        "field": "YDYHFLDM", "value": "0799",
    })  # fmt: skip

    # 4. a stored area that disagrees with the geometry by 8 %
    index = int(rng.integers(len(red.frame)))
    red.frame.loc[index, "MJ"] = round(float(red.frame["MJ"].iloc[index]) * 1.08, 2)
    defects.append({
        "kind": "area_mismatch", "layer": "stbhhx", "bsm": int(red.frame["BSM"].iloc[index]),
        "field": "MJ",
    })  # fmt: skip

    # 5. two urban-boundary features sharing one BSM
    duplicate = int(urban.frame["BSM"].iloc[0])
    urban.frame.loc[1, "BSM"] = duplicate
    defects.append({"kind": "duplicate_bsm", "layer": "czkfbj", "bsm": duplicate})
    return defects


def _lonlat(x: float, y: float) -> list[float]:
    from publish.sample.geography import to_lonlat

    lon, lat = to_lonlat(x, y)
    return [round(lon, 6), round(lat, 6)]
