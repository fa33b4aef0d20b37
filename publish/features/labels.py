"""Label points of the administrative areas: one point per named area, inside it, for the
`labels` tile layer.

A symbol layer on polygons labels every tile's piece of a polygon, so a county spread over four
tiles is named up to four times at the city view. Instead the build computes one point per area
and the style labels the areas from these points (publish.styles.document).

Which layers: the audience's layers of role `admin` with a `name_field` (counties, townships):
the areas a reader looks for by name. Other named polygons (protected areas) keep no label, as
before. An area is every feature of the layer with the same name and code (a county delivered
in several rows is one area); its point is the pole of inaccessibility (GEOS's maximum inscribed
circle, the algorithm of shapely's `polylabel`: its centre) of the area's largest part, computed in the city's
working CRS (metres), so it lies inside the area, as far from its edges as it can.

Fields: `layer` (the catalog id the point labels), `name`, `name_en` (from a published
`<name_field>_EN`, when there is one) and `code` (the area's XZQDM, when published).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from publish.catalog import LayerSpec

if TYPE_CHECKING:
    from publish.release.output import ReleaseJob

__all__ = [
    "CODE_FIELD",
    "LABEL_FIELDS",
    "english_field",
    "label_frames",
    "label_points",
    "labelled_layers",
]

LABEL_FIELDS = ("layer", "name", "name_en", "code")
CODE_FIELD = "XZQDM"  # the database standard's administrative code
_EMPTY = "(unnamed)"


def labelled_layers(specs: Iterable[LayerSpec]) -> list[LayerSpec]:
    """The layers whose areas are labelled from the `labels` layer: admin layers with a name."""
    return [s for s in specs if s.role == "admin" and s.name_field]


def english_field(spec: LayerSpec) -> str | None:
    """The published English name field (`<name_field>_EN` or `_en`), if any."""
    if not spec.name_field:
        return None
    candidates = (f"{spec.name_field}_EN", f"{spec.name_field}_en")
    return next((f for f in candidates if f in spec.fields), None)


def _text(values: pd.Series) -> pd.Series:
    return (
        values.astype(object)
        .where(values.notna(), None)
        .map(lambda v: None if v is None or str(v).strip() == "" else str(v).strip())
    )


def label_points(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """One label point per named area of `frame` (the layer in a projected CRS, metres), in
    EPSG:4326 with LABEL_FIELDS. Features without a name or geometry are left out."""
    if not spec.name_field or spec.name_field not in frame.columns:
        return _empty()
    english = english_field(spec)
    table = pd.DataFrame(
        {
            "name": _text(frame[spec.name_field]),
            "name_en": _text(frame[english]) if english in frame.columns else None,
            "code": _text(frame[CODE_FIELD]) if CODE_FIELD in frame.columns else None,
        },
        index=frame.index,
    )
    geoms = np.asarray(frame.geometry.array, dtype=object)
    keep = table["name"].notna().to_numpy() & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    table, geoms = table[keep], geoms[keep]
    if not len(table):
        return _empty()
    geoms = shapely.make_valid(geoms)
    keys = table[["name", "code"]].fillna(_EMPTY)
    rows, parts = [], []
    for _key, idx in keys.groupby(["name", "code"], sort=True).indices.items():
        part = _largest_polygon(shapely.union_all(geoms[idx]))
        if part is None:
            continue
        parts.append(part)
        first = table.iloc[idx[0]]
        rows.append((spec.id, first["name"], first["name_en"], first["code"]))
    if not parts:
        return _empty()
    # the pole of inaccessibility: the centre of the largest inscribed circle, to ~0.2 % of the
    # area's size (GEOS, vectorised); the circle is a line from the centre to the nearest edge
    polygons = np.asarray(parts, dtype=object)
    tolerance = np.maximum(np.sqrt(shapely.area(polygons)) / 500.0, 1.0)
    points = shapely.get_point(shapely.maximum_inscribed_circle(polygons, tolerance), 0)
    out = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=list(LABEL_FIELDS)), geometry=points, crs=frame.crs
    )
    return out.to_crs(4326)


def _largest_polygon(geom: shapely.Geometry) -> shapely.Polygon | None:
    polygons = [
        g
        for g in shapely.get_parts(geom)
        if isinstance(g, shapely.Polygon) and not g.is_empty and g.area > 0
    ]
    if not polygons:
        # a GeometryCollection from make_valid: look one level down
        polygons = [
            p
            for g in shapely.get_parts(geom)
            for p in shapely.get_parts(g)
            if isinstance(p, shapely.Polygon) and p.area > 0
        ]
    return max(polygons, key=lambda p: p.area) if polygons else None


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(columns=list(LABEL_FIELDS)), geometry=[], crs="EPSG:4326")


def label_frames(job: ReleaseJob) -> Mapping[str, gpd.GeoDataFrame]:
    """Each audience's `labels` layer: the label points of its labelled layers (computed once
    per layer; a layer without features gives none)."""
    points: dict[str, gpd.GeoDataFrame] = {}
    out = {}
    for audience, specs in job.audiences():
        frames = []
        for spec in labelled_layers(specs):
            result = job.layers[spec.id]
            if not result.count:
                continue
            if spec.id not in points:
                points[spec.id] = label_points(job.frame(result), spec)
            frames.append(points[spec.id])
        if frames:
            merged = pd.concat(frames, ignore_index=True)
            out[audience] = gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")
    return out
