"""Small map images of the review's findings, drawn on the CPU by MapLibre Native (mapli).

Each image is centred on a finding's lon/lat and zoomed so that its offending features fit;
the plan's neighbours are drawn in the staff map's own style (publish.styles.document, internal
audience) and the offending features on top of them, outlined in HIGHLIGHT.

Nothing needs to be tiled (a refused build has no tiles): the style's layers are repointed at
GeoJSON sources read from the layers' feature tables (publish.features.store, EPSG:4326), one
source per layer holding every image's window of it, and one source of the marked features.
One style is registered per surface shown (the default one, or the surface a finding is in:
the surfaces cover the ground, only one is visible at a time), not one per image.
"""

from __future__ import annotations

import io
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from publish.gpkg.schema import quote

__all__ = [
    "HEIGHT",
    "HIGHLIGHT",
    "WIDTH",
    "MapView",
    "Snapshot",
    "draw_maps",
    "fit_view",
    "review_style",
]

WIDTH, HEIGHT = 320, 200  # logical px, pixel ratio 1
PADDING = 18  # px left around the offending features
MIN_RADIUS_M = 120.0  # the smallest half-extent of a view (a tiny feature still shows around it)
SPOT_RADIUS_M = 300.0  # a finding with no feature (a zone gap): this much around its lon/lat
MAX_ZOOM = 18.0
MARGIN = 0.15  # a window is the view's extent plus this share on every side
HIGHLIGHT = "#00FFFF"
CASING = "#1D1D1F"
MARKED = "finding"  # the source of the offending features
PALETTE = 96  # colours of a finding's PNG (small files, the plan's flat colours survive)

_EARTH = 2 * math.pi * 6_378_137.0  # Web Mercator's world width, metres
_WORLD_PX = 512  # MapLibre's zoom levels are for 512 px tiles


@dataclass(frozen=True)
class MapView:
    """Where a map image looks: its centre (EPSG:4326) and MapLibre zoom."""

    lon: float
    lat: float
    zoom: float

    def window(self, width: int = WIDTH, height: int = HEIGHT) -> tuple[float, float, float, float]:
        """The lon/lat box the image shows, plus MARGIN on every side."""
        half = _EARTH / (_WORLD_PX * 2**self.zoom) * (1 + 2 * MARGIN) / 2
        x, y = _to_mercator(self.lon, self.lat)
        west, south = _to_lonlat(x - half * width, y - half * height)
        east, north = _to_lonlat(x + half * width, y + half * height)
        return (west, south, east, north)

    def tolerance(self) -> float:
        """Half a pixel of this view, in degrees of longitude (what simplifying may drop)."""
        return 360.0 / (_WORLD_PX * 2**self.zoom) / 2


@dataclass(frozen=True)
class Snapshot:
    """One image to draw: the view and the layer whose surface it shows (if it is one)."""

    view: MapView
    layer: str


def fit_view(
    lonlat: tuple[float, float],
    bounds: Sequence[float] | None,
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    padding: int = PADDING,
) -> MapView:
    """The view centred on `lonlat` in which `bounds` (west, south, east, north: the offending
    features) fit with `padding`; without bounds, SPOT_RADIUS_M around the point. A view is
    never closer than MIN_RADIUS_M around its centre, nor beyond MAX_ZOOM."""
    lon, lat = lonlat
    x, y = _to_mercator(lon, lat)
    stretch = 1 / math.cos(math.radians(lat))  # mercator metres per ground metre here
    radius = (MIN_RADIUS_M if bounds is not None else SPOT_RADIUS_M) * stretch
    half_x = half_y = radius
    if bounds is not None:
        x0, y0 = _to_mercator(bounds[0], bounds[1])
        x1, y1 = _to_mercator(bounds[2], bounds[3])
        half_x = max(radius, abs(x0 - x), abs(x1 - x))
        half_y = max(radius, abs(y0 - y), abs(y1 - y))
    per_px = max(half_x / (width / 2 - padding), half_y / (height / 2 - padding))
    zoom = min(MAX_ZOOM, max(0.0, math.log2(_EARTH / (_WORLD_PX * per_px))))
    return MapView(lon, lat, zoom)


def review_style(
    style: Mapping[str, Any],
    sources: Mapping[str, dict[str, Any]],
    marked: dict[str, Any],
    surface: str | None = None,
) -> dict[str, Any]:
    """`style` (a plan style, publish.styles.document) drawing from GeoJSON: `sources` holds a
    FeatureCollection per catalog layer (a style layer of no such source is left out: labels
    of the `labels` layer, the conflicts), `marked` the offending features, drawn on top.
    `surface`: the catalog layer whose surface is shown (None: the style's own choice)."""
    from publish.raster.style import GLYPHS_URL, LAYER_KEY

    doc: dict[str, Any] = {k: v for k, v in style.items() if k not in ("sources", "layers")}
    doc.pop("sprite", None)
    if "glyphs" in doc:
        doc["glyphs"] = GLYPHS_URL
    doc["sources"] = {
        _source(layer): {"type": "geojson", "data": data} for layer, data in sources.items()
    }
    doc["sources"][MARKED] = {"type": "geojson", "data": marked}
    layers = []
    for item in style.get("layers", []):
        layer = (item.get("metadata") or {}).get(LAYER_KEY)
        if item.get("type") == "background":
            layers.append(dict(item))
            continue
        if layer not in sources or item.get("source-layer") != layer:
            continue
        copy = {k: v for k, v in item.items() if k != "source-layer"}
        copy["source"] = _source(layer)
        if surface in sources and (item.get("metadata") or {}).get("onemap:exclusive"):
            shown = "visible" if layer == surface else "none"
            copy["layout"] = {**item.get("layout", {}), "visibility": shown}
        layers.append(copy)
    doc["layers"] = layers + _marked_layers()
    return doc


def _source(layer: str) -> str:
    return f"layer:{layer}"


def _marked_layers() -> list[dict[str, Any]]:
    point = ["==", "$type", "Point"]
    return [
        {
            "id": "finding-fill",
            "type": "fill",
            "source": MARKED,
            "paint": {"fill-color": HIGHLIGHT, "fill-opacity": 0.18},
        },
        {
            "id": "finding-casing",
            "type": "line",
            "source": MARKED,
            "paint": {"line-color": CASING, "line-width": 5, "line-opacity": 0.8},
        },
        {
            "id": "finding-line",
            "type": "line",
            "source": MARKED,
            "paint": {"line-color": HIGHLIGHT, "line-width": 2.5},
        },
        {
            "id": "finding-spot",
            "type": "circle",
            "source": MARKED,
            "filter": point,
            "paint": {
                "circle-radius": 7,
                "circle-color": "rgba(0,0,0,0)",
                "circle-stroke-color": HIGHLIGHT,
                "circle-stroke-width": 3,
            },
        },
    ]


def draw_maps(
    style: Mapping[str, Any],
    tables: Mapping[str, Path],
    snapshots: Sequence[Snapshot],
    marked: gpd.GeoDataFrame,
) -> list[bytes]:
    """One PNG (WIDTH × HEIGHT) per snapshot, same order: the plan around each view from the
    layers' feature tables (`tables`: catalog id → GeoPackage, table = id, EPSG:4326), the
    `marked` features (EPSG:4326) highlighted. Rendered by a renderer of their own, closed
    when they are drawn."""
    from publish.raster.renderer import Renderer
    from publish.raster.style import LAYER_KEY

    if not snapshots:
        return []
    surfaces, default = _surfaces(style, LAYER_KEY)
    shown = [s.layer if s.layer in surfaces else default for s in snapshots]
    sources = {}
    for layer, minzoom in _minzooms(style, LAYER_KEY).items():
        if layer not in tables:
            continue
        # a surface is read only around the images that show it (they cover the ground)
        views = [
            s.view
            for s, o in zip(snapshots, shown, strict=True)
            if layer not in surfaces or o == layer
        ]
        sources[layer] = _feature_collection(read_windows(tables[layer], layer, views, minzoom))
    marked_json = _feature_collection(marked)
    run = uuid.uuid4().hex
    makers: dict[str | None, Callable[[], dict[str, Any]]] = {
        surface: _maker(style, sources, marked_json, surface) for surface in set(shown)
    }
    renderer = Renderer(max_styles=len(makers))

    def draw(snapshot: Snapshot, surface: str | None) -> bytes:
        view = snapshot.view
        png = renderer.render_view(
            f"review/{run}/{surface or ''}",
            makers[surface],
            lon=view.lon,
            lat=view.lat,
            zoom=view.zoom,
            width=WIDTH,
            height=HEIGHT,
        )
        return _small_png(png)

    try:
        with ThreadPoolExecutor(max_workers=renderer.workers) as pool:
            return list(pool.map(draw, snapshots, shown))
    finally:
        renderer.close()  # its workers stop: nothing is left running in the build


def _maker(
    style: Mapping[str, Any],
    sources: Mapping[str, dict[str, Any]],
    marked: dict[str, Any],
    surface: str | None,
) -> Callable[[], dict[str, Any]]:
    return lambda: review_style(style, sources, marked, surface)


def _minzooms(style: Mapping[str, Any], key: str) -> dict[str, float]:
    """Per catalog layer the style draws from its own source-layer: the lowest zoom at which
    one of its style layers shows."""
    zooms: dict[str, float] = {}
    for item in style.get("layers", []):
        layer = (item.get("metadata") or {}).get(key)
        if layer and item.get("source-layer") == layer:
            zoom = float(item.get("minzoom", 0))
            zooms[layer] = min(zooms.get(layer, zoom), zoom)
    return zooms


def _surfaces(style: Mapping[str, Any], key: str) -> tuple[set[str], str | None]:
    """The catalog layers drawn as surfaces (only one visible at a time), and the one the
    style shows (None: none)."""
    surfaces: set[str] = set()
    default = None
    for item in style.get("layers", []):
        meta = item.get("metadata") or {}
        if meta.get(key) and meta.get("onemap:exclusive"):
            surfaces.add(str(meta[key]))
            if (item.get("layout") or {}).get("visibility", "visible") != "none":
                default = str(meta[key])
    return surfaces, default


def read_windows(
    path: Path, layer: str, views: Sequence[MapView], minzoom: float = 0.0
) -> gpd.GeoDataFrame:
    """The features of table `layer` of `path` inside the views' windows (those at or above
    `minzoom`: below it the style does not draw the layer), clipped to the windows and
    simplified to half a pixel of the closest view. Overlapping windows are merged first, so
    no part of a feature is drawn twice. One read of the table (through its R-tree)."""
    shown = [v for v in views if v.zoom >= minzoom]
    if not shown:
        return _empty()
    boxes = shapely.box(*zip(*(v.window() for v in shown), strict=True))
    groups = _merged_boxes(boxes)
    frame = _read_boxes(path, layer, [g.bounds for g in groups])
    if frame.empty:
        return _empty()
    tree = shapely.STRtree(frame.geometry.to_numpy())
    centres = shapely.centroid(boxes)
    parts = []
    for group in groups:
        rows = tree.query(group, predicate="intersects")
        if not len(rows):
            continue
        inside = shapely.intersects(group, centres)
        tolerance = min(v.tolerance() for v, hit in zip(shown, inside, strict=True) if hit)
        part = frame.iloc[np.sort(rows)]
        geometry = shapely.clip_by_rect(part.geometry.to_numpy(), *group.bounds)
        geometry = shapely.simplify(geometry, tolerance, preserve_topology=True)
        data = pd.DataFrame(part.drop(columns=part.geometry.name))
        kept = ~shapely.is_empty(geometry)
        parts.append(gpd.GeoDataFrame(data[kept], geometry=geometry[kept], crs="EPSG:4326"))
    if not parts:
        return _empty()
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")


def _read_boxes(
    path: Path, layer: str, bounds: Sequence[tuple[float, float, float, float]]
) -> gpd.GeoDataFrame:
    """The rows of a GeoPackage table whose R-tree box meets one of `bounds`, in one query
    (a table without an R-tree: those in the box around them all)."""
    info = pyogrio.read_info(path, layer=layer)
    if not info["features"] or info["geometry_name"] is None:
        return _empty()
    rtree = f"rtree_{layer}_{info['geometry_name']}"
    if rtree not in _tables(path):
        west, south, east, north = shapely.total_bounds(shapely.box(*zip(*bounds, strict=True)))
        return pyogrio.read_dataframe(path, layer=layer, bbox=(west, south, east, north))
    meets = " OR ".join(
        f"(maxx >= {w!r} AND minx <= {e!r} AND maxy >= {s!r} AND miny <= {n!r})"
        for w, s, e, n in bounds
    )
    fid = quote(info["fid_column"] or "fid")
    sql = (
        f"SELECT * FROM {quote(layer)} WHERE {fid} IN (SELECT id FROM {quote(rtree)} WHERE {meets})"
    )
    return pyogrio.read_dataframe(path, sql=sql)


def _tables(path: Path) -> set[str]:
    """The tables of an SQLite file (a GeoPackage), read only."""
    import sqlite3

    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")


def _merged_boxes(boxes: Any) -> list[shapely.Polygon]:
    """Boxes covering `boxes` with no two overlapping: the bounding boxes of the groups of
    overlapping boxes (merged again until none overlap)."""
    current = list(boxes)
    while True:
        union = shapely.union_all(current)
        merged = [shapely.box(*part.bounds) for part in shapely.get_parts(union)]
        if len(merged) == len(current) or len(merged) == 1:
            return merged
        current = merged


def _feature_collection(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    import json

    if frame.empty:
        return {"type": "FeatureCollection", "features": []}
    return dict(json.loads(frame.to_json(na="drop", drop_id=True, default=str)))


def _small_png(png: bytes) -> bytes:
    """The image with a palette of PALETTE colours (a third of the bytes, same look)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(PALETTE, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _to_mercator(lon: float, lat: float) -> tuple[float, float]:
    x, y = _transformer(False).transform(lon, lat)
    return float(x), float(y)


def _to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = _transformer(True).transform(x, y)
    return float(lon), float(lat)


@cache
def _transformer(inverse: bool) -> Any:
    from pyproj import Transformer

    if inverse:
        return Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    return Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
