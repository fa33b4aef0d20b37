"""Small GeoPackages and geometry blobs made by the tests of publish.gpkg (and the OGC queries
that read through it)."""

from __future__ import annotations

import struct
from pathlib import Path

import geopandas as gpd
import shapely

BOX = (110.0, 29.0, 110.1, 29.1)
SQUARE = shapely.Polygon([(110, 29), (110.1, 29), (110.1, 29.1), (110, 29.1)])


def blob(
    geom: shapely.Geometry, envelope: int, *, little: bool = True, empty: bool = False
) -> bytes:
    """A GeoPackage blob as the standard describes it (envelope: 0 none, 1 xy, 2 xyz, 3 xym,
    4 xyzm)."""
    flags = (envelope << 1) | (1 if little else 0) | (0x10 if empty else 0)
    order = "<" if little else ">"
    minx, miny, maxx, maxy = geom.bounds
    values = {0: (), 1: (minx, maxx, miny, maxy), 2: (minx, maxx, miny, maxy, 0, 0)}
    values[3] = values[2]
    values[4] = (*values[1], 0, 0, 0, 0)
    env = struct.pack(f"{order}{len(values[envelope])}d", *values[envelope])
    header = b"GP" + bytes([0, flags]) + struct.pack(f"{order}i", 4326)
    return header + env + shapely.to_wkb(geom)


def write_six(path: Path) -> Path:
    """Table `t` of six features around `BOX`, written by GDAL (R-tree, fid key).

    fid 1: inside the box; 2: an L whose envelope covers the box's corner but which misses it;
    3: crosses the box's edge; 4: far away; 5: a line through the box; 6: NULL geometry.
    """
    ell = shapely.Polygon(
        [
            (110.05, 29.15),
            (110.3, 29.15),
            (110.3, 28.8),
            (110.15, 28.8),
            (110.15, 29.12),
            (110.05, 29.12),
        ]
    )
    frame = gpd.GeoDataFrame(
        {
            "BSM": [1, 2, 3, 4, 5, 6],
            "MC": ["甲", "乙", "丙", "丁", "甲", "乙"],
            "MJ": [5.0, 3.0, 9.0, 1.0, 7.0, 2.0],
        },
        geometry=[
            shapely.box(110.02, 29.02, 110.03, 29.03),
            ell,
            shapely.box(110.09, 29.09, 110.2, 29.2),
            shapely.box(111.0, 30.0, 111.1, 30.1),
            shapely.LineString([(109.9, 29.05), (110.2, 29.05)]),
            None,
        ],
        crs="EPSG:4326",
    )
    frame.to_file(path, layer="t", driver="GPKG", engine="pyogrio")
    return path
