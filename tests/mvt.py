"""Test helpers: decode a PMTiles archive's tiles and turn tile coordinates into positions."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import mapbox_vector_tile

from publish.tiles.archive import Archive


def decoded_tiles(path: Path, z: int) -> list[tuple[int, int, dict[str, Any]]]:
    out = []
    with Archive(path) as archive:
        for tz, x, y, data in archive.iter_tiles():
            if tz == z:
                raw = gzip.decompress(data) if archive.tile_compression == "gzip" else data
                out.append(
                    (x, y, mapbox_vector_tile.decode(raw, default_options={"y_coord_down": True}))
                )
    return out


def tile_to_lonlat(
    z: int, x: int, y: int, px: float, py: float, extent: int
) -> tuple[float, float]:
    n = 1 << z
    lon = (x + px / extent) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + py / extent) / n))))
    return lon, lat


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = math.radians(a[0] - b[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return 6371008.8 * math.hypot(dx, math.radians(a[1] - b[1]))
