"""Which raster tiles exist: /raster/{audience}/{z}/{x}/{y}.png addresses and their range.

A raster tile exists from the archive's lowest zoom to RASTER_MAX_ZOOM (MapLibre draws the
archive's deepest tiles larger past its own maxzoom) wherever the tile meets the archive's
bounds; elsewhere it is a 404, as for the vector tiles.
"""

from __future__ import annotations

from publish.server.errors import BadRequestError, NotFoundError
from publish.tiles.archive import Archive, tile_bounds

RASTER_MAX_ZOOM = 18
RASTER_EXTENSION = "png"
_MAX_DIGITS = 10


def _integer(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS):
        raise BadRequestError(f"{what} must be a non-negative integer")
    return int(text)


def parse_raster_path(z: str, x: str, name: str) -> tuple[int, int, int]:
    """(z, x, y) from the last three path segments; BadRequestError for a malformed address."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext != RASTER_EXTENSION:
        raise BadRequestError("a raster tile path ends in {y}.png")
    zi, xi, yi = _integer(z, "z"), _integer(x, "x"), _integer(stem, "y")
    if zi > RASTER_MAX_ZOOM:
        raise NotFoundError(f"no raster tile here: zooms go to {RASTER_MAX_ZOOM}")
    if xi >= 1 << zi or yi >= 1 << zi:
        raise BadRequestError(f"x and y must be below 2^z = {1 << zi} at zoom {zi}")
    return zi, xi, yi


def check_raster_tile(archive: Archive, z: int, x: int, y: int) -> None:
    """NotFoundError unless tile z/x/y is inside the archive's zooms (up to RASTER_MAX_ZOOM)
    and meets its bounds."""
    if z < archive.minzoom or z > RASTER_MAX_ZOOM:
        raise NotFoundError("no raster tile here: outside the map's zooms or bounds")
    west, south, east, north = tile_bounds(z, x, y)
    min_lon, min_lat, max_lon, max_lat = archive.bounds
    if not (west <= max_lon and east >= min_lon and south <= max_lat and north >= min_lat):
        raise NotFoundError("no raster tile here: outside the map's zooms or bounds")
