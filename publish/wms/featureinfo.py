"""GetFeatureInfo from the release's feature store: the features of some catalog layers under
a clicked pixel (a few pixels of tolerance), as GeoJSON, HTML or plain text.

The GeoPackage holds one table per layer id (EPSG:4326, R-tree, fid = feature id) with only the
published fields, and the audience's file holds only the audience's layers: a public query can
never meet an internal layer.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.gpkg.reader import Bbox, open_geopackage

DEFAULT_FEATURE_COUNT = 10
MAX_FEATURE_COUNT = 50


@dataclass(frozen=True)
class InfoLayer:
    id: str
    title_zh: str
    title_en: str


@dataclass(frozen=True)
class FoundFeature:
    layer: InfoLayer
    id: int
    properties: dict[str, Any]


def features_at(
    gpkg_path: Path, layers: Sequence[InfoLayer], box: Bbox, limit: int
) -> list[FoundFeature]:
    """Features of `layers` (top of the map first) under the click at the centre of the lon/lat
    `box`, at most `limit`: polygons that hold the point, lines and points that meet the box
    (the tolerance a thin symbol needs)."""
    import numpy as np
    import shapely

    from publish.gpkg.geometry import from_blobs

    gpkg = open_geopackage(gpkg_path)
    probe = shapely.box(*box)
    click = shapely.Point((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    found: list[FoundFeature] = []
    for layer in layers:
        if len(found) >= limit:
            break
        table = gpkg.table(layer.id)
        if table.rtree is None:
            continue
        columns = list(table.columns)
        rows = gpkg.rows_in_box(layer.id, columns, box)
        if not rows:
            continue
        geometries = from_blobs([row[-1] for row in rows])
        polygonal = np.isin(shapely.get_type_id(geometries), (3, 6))
        hits = np.where(
            polygonal, shapely.intersects(geometries, click), shapely.intersects(geometries, probe)
        )
        for row, hit in zip(rows, hits, strict=True):
            if hit and len(found) < limit:
                props = dict(zip(columns, row[1:-1], strict=True))
                found.append(FoundFeature(layer, int(row[0]), props))
    return found


def as_geojson(found: Sequence[FoundFeature]) -> str:
    features = [
        {
            "type": "Feature",
            "id": f"{f.layer.id}.{f.id}",
            "geometry": None,
            "properties": {"layer": f.layer.id, "layer_title": f.layer.title_zh, **f.properties},
        }
        for f in found
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, default=str
    )


def as_html(found: Sequence[FoundFeature]) -> str:
    parts = ["<html><body>"]
    for f in found:
        title = html.escape(f"{f.layer.title_zh} {f.layer.title_en} ({f.layer.id} {f.id})")
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in f.properties.items()
        )
        parts.append(f"<table><caption>{title}</caption>{rows}</table>")
    parts.append("</body></html>")
    return "".join(parts)


def as_text(found: Sequence[FoundFeature]) -> str:
    lines = []
    for f in found:
        lines.append(f"{f.layer.id} {f.id} ({f.layer.title_zh})")
        lines += [f"  {k} = {v}" for k, v in f.properties.items()]
    return "\n".join(lines) + ("\n" if lines else "")
