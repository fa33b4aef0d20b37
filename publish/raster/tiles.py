"""Which raster tiles exist: /raster/{audience}/{z}/{x}/{y}.png addresses and their range.

A raster tile exists from the archive's lowest zoom to RASTER_MAX_ZOOM (MapLibre draws the
archive's deepest tiles larger past its own maxzoom) wherever the tile meets the archive's
bounds; elsewhere it is a 404, as for the vector tiles.
"""

from __future__ import annotations

from publish.server.errors import NotFoundError
from publish.server.tiles import parse_tile_path
from publish.tiles.archive import Archive, tile_bounds

RASTER_MAX_ZOOM = 18
RASTER_EXTENSION = "png"


def parse_raster_path(z: str, x: str, name: str) -> tuple[int, int, int]:
    """(z, x, y) from the last three path segments; BadRequestError for a malformed address."""
    return parse_tile_path(z, x, name, frozenset({RASTER_EXTENSION}), RASTER_MAX_ZOOM)


def check_raster_tile(archive: Archive, z: int, x: int, y: int) -> None:
    """NotFoundError unless tile z/x/y is inside the archive's zooms (up to RASTER_MAX_ZOOM)
    and meets its bounds."""
    if z < archive.minzoom or z > RASTER_MAX_ZOOM:
        raise NotFoundError("no raster tile here: outside the map's zooms or bounds")
    west, south, east, north = tile_bounds(z, x, y)
    min_lon, min_lat, max_lon, max_lat = archive.bounds
    if not (west <= max_lon and east >= min_lon and south <= max_lat and north >= min_lat):
        raise NotFoundError("no raster tile here: outside the map's zooms or bounds")
