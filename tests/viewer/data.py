"""What the browser tests look for, chosen from the release's own features (so that a change of
the sample moves the views with it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points


def read_layer(release: Path, layer: str, audience: str = "public") -> gpd.GeoDataFrame:
    frame: gpd.GeoDataFrame = gpd.read_file(
        release / "features" / f"{audience}.gpkg", layer=layer, fid_as_index=True
    )
    return frame


@dataclass(frozen=True)
class CentreView:
    """A view of the central city at `zoom` where planned land use meets the red line."""

    lng: float
    lat: float
    zoom: float


def centre_view(release: Path, zoom: float = 14.0) -> CentreView:
    """The point of the red line's outline nearest to the middle of the planned land use: half
    the view is land use, and the red line runs through it."""
    ydyh = read_layer(release, "ydyh")
    red = read_layer(release, "stbhhx")
    middle = shapely.union_all(ydyh.geometry.values).centroid
    near = red[red.intersects(shapely.box(*ydyh.total_bounds))]
    outline = shapely.union_all(near.geometry.values).boundary
    point = nearest_points(outline, middle)[0]
    return CentreView(point.x, point.y, zoom)


def union_of(release: Path, layer: str, box: BaseGeometry) -> BaseGeometry:
    frame = read_layer(release, layer)
    frame = frame[frame.intersects(box)]
    return shapely.union_all(frame.geometry.values) if len(frame) else shapely.Polygon()
