"""Low-zoom overviews of the dense polygon layers: the one table of which role is generalised
below which zoom, and the dissolve that makes an overview.

Below the zoom at which the style starts drawing parcel edges (styles/basemap.yml:
`surfaces.edges.minzoom`, 12), a planning surface shows nothing but the colour of each parcel's
code, and farmland nothing but its one colour and outline. Thousands of parcels there cost
hundreds of KiB per tile for what a handful of polygons draw: the central city's z8 tile held
2,779 planned blocks and 5,620 farmland parcels (377 KiB, most of the viewer's first view). So a
layer of a role in OVERVIEWS is tiled in two parts of the same tile layer:

    catalog minzoom … detail_zoom − 1   the overview: the layer dissolved by its code (every
                                        same-code neighbour merged), with the code as its only
                                        attribute and no feature id (it is no source feature)
    detail_zoom … the archive's top     every feature as it is, with its published fields and id

so the colours a planner reads are the same at every zoom, and the feature-complete zooms (the
catalog maxzoom the build checks, and above) are unchanged. Like every layer's low zooms, the
overview is tiled in a tippecanoe run of its own at a coarser tile extent
(publish.tiles.tippecanoe: LOW_ZOOM_DETAIL) and stacked under the detail's zooms
(publish.tiles.stack). A click at an overview zoom shows the code and its class, not a parcel's
attributes (the viewer asks the OGC API only for features with an id). A layer whose catalog minzoom is already at or above detail_zoom needs no overview.

| role           | overview below | attribute kept | why |
|----------------|----------------|----------------|-----|
| planning_zone  | z12            | code_field     | the default surface: in every first view |
| land_use       | z12            | code_field     | ~3,000 blocks in one z8 tile |
| farmland       | z12            | (none)         | ~7,000 parcels, one colour; in every first view |

Left out, on purpose: current_use (三调 parcels, up to a million in the benchmark sample: the
dissolve would cost minutes of the build, and its catalog minzoom, 10, keeps it out of the city
views), the red line and the urban boundary (tens of features: nothing to gain), admin and
`other` layers (their lines and names are drawn per feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from publish.catalog import LayerSpec
from publish.errors import BuildError
from publish.tiles.inputs import write_geojsonseq

__all__ = ["OVERVIEWS", "Overview", "dissolve", "overview_for", "write_overview"]


@dataclass(frozen=True)
class Overview:
    """How a role is generalised: dissolved below `detail_zoom`, keeping its code or nothing."""

    detail_zoom: int
    keep_code: bool


OVERVIEWS: dict[str, Overview] = {
    "planning_zone": Overview(detail_zoom=12, keep_code=True),
    "land_use": Overview(detail_zoom=12, keep_code=True),
    "farmland": Overview(detail_zoom=12, keep_code=False),
}


def overview_for(spec: LayerSpec) -> Overview | None:
    """The layer's overview, or None: its role has none, its code field is not published, or its
    catalog minzoom is already at or above the detail zoom (or its maxzoom below it)."""
    overview = OVERVIEWS.get(spec.role)
    if overview is None:
        return None
    if overview.keep_code and not (spec.code_field and spec.code_field in spec.fields):
        return None  # the tiles carry no code to colour by
    if not spec.minzoom < overview.detail_zoom <= spec.maxzoom:
        return None
    return overview


def dissolve(frame: gpd.GeoDataFrame, code_field: str | None) -> gpd.GeoDataFrame:
    """The frame's polygons merged per value of `code_field` (all into one without a field):
    one row per code, the code the only column. Invalid geometries are repaired first; features
    without a code form a group of their own (drawn in the style's fallback colour)."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = shapely.make_valid(geoms[keep])
    if code_field is None:
        keys = np.zeros(len(geoms), dtype=np.int64)
    else:
        keys = frame[code_field].to_numpy()[keep]
    codes, merged = [], []
    for key in _unique(keys):
        same = keys == key if key is not None else _missing(keys)
        union = shapely.union_all(geoms[same])
        polygons = shapely.get_parts(union)
        polygons = polygons[shapely.get_type_id(polygons) == 3]  # drop lines/points of make_valid
        if len(polygons):
            codes.append(key)
            merged.append(shapely.multipolygons(polygons))
    columns = {code_field: codes} if code_field is not None else {}
    return gpd.GeoDataFrame(columns, geometry=merged, crs=frame.crs)


def _missing(keys: np.ndarray) -> np.ndarray:
    return np.array([k is None or k != k for k in keys], dtype=bool)  # None or NaN


def _unique(keys: np.ndarray) -> list[object]:
    present = [k for k in keys if not (k is None or k != k)]
    out: list[object] = sorted(set(present), key=str)
    if len(present) < len(keys):
        out.append(None)
    return out


def write_overview(features: Path, path: Path, spec: LayerSpec, overview: Overview) -> int:
    """Write the layer's overview as tippecanoe's input `path`: the features of the layer's
    table (`features`, EPSG:4326) dissolved per code, from the catalog minzoom to the zoom below
    the detail zoom, without feature ids. Returns the number of overview features."""
    field = spec.code_field if overview.keep_code else None
    try:
        frame = pyogrio.read_dataframe(features, layer=spec.id, columns=[field] if field else [])
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise BuildError(
            f"layer {spec.id}: cannot read its features for the overview: {exc}"
        ) from exc
    merged = dissolve(frame, field)
    return write_geojsonseq(
        [merged],
        path,
        [field] if field else [],
        minzoom=spec.minzoom,
        maxzoom=overview.detail_zoom - 1,
        with_ids=False,
    )
