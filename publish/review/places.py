"""Where each finding is, for a reader without a GIS: the layer's title, the feature's name,
a link that opens the staff viewer there, and a small map image of the feature among its
neighbours in the plan's own style (the first IMAGES_PER_KIND findings of each kind).

The features come from the layers' feature tables (publish.features.store: one GeoPackage per
layer, table = layer id, fid = 1-based row, EPSG:4326), which a refused build has too; a finding
names its feature by the id field's value as text, or "#<row>" without one.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from publish.checks.findings import Finding, Review
from publish.checks.geometry import id_text
from publish.gpkg.schema import quote
from publish.review.inputs import ReportInputs
from publish.review.maps import MapView, Snapshot, draw_maps, fit_view

__all__ = [
    "IMAGES_PER_KIND",
    "VIEWER",
    "FindingPlace",
    "place_findings",
    "read_features",
    "viewer_link",
]

IMAGES_PER_KIND = 50
VIEWER = "/internal/"  # the staff viewer (relative: the report is served by the same host)
KEY = "feature"  # read_features' column: the feature as findings name it

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FindingPlace:
    """One finding's place, in the order of the review's findings."""

    layer_title_zh: str
    layer_title_en: str
    name: str | None = None  # the feature's name (the layer's name_field), if it has one
    link: str | None = None  # the staff viewer at the finding: /internal/#map=…
    image: bytes | None = None  # PNG; None beyond IMAGES_PER_KIND or without a location

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer_title": {"zh": self.layer_title_zh, "en": self.layer_title_en},
            "name": self.name,
            "link": self.link,
            "image": self.image is not None,
        }


def place_findings(review: Review, inputs: ReportInputs) -> list[FindingPlace]:
    """One FindingPlace per finding of `review`, same order."""
    from publish.domain import INTERNAL
    from publish.raster.renderer import RenderError
    from publish.raster.style import GLYPHS_URL
    from publish.styles.document import build_style

    specs = {spec.id: spec for spec in inputs.catalog.layers}
    tables = {
        layer: Path(result.features_path)
        for layer, result in inputs.layers.items()
        if layer in specs and Path(result.features_path).is_file()
    }
    features = {
        layer: read_features(
            tables[layer], layer, ids, specs[layer].id_field, specs[layer].name_field
        )
        for layer, ids in _named_features(review.findings).items()
        if layer in tables
    }
    views = [_view(f, features) for f in review.findings]
    drawn = _with_images(review.findings, views)
    images: dict[int, bytes] = {}
    if drawn:
        snapshots = [Snapshot(view, review.findings[i].layer) for i, view in drawn]
        style = build_style(
            inputs.catalog,
            INTERNAL,
            tiles_url="",
            glyphs_url=GLYPHS_URL,
            styles_dir=inputs.styles_dir,
        )
        marked = _marked([review.findings[i] for i, _ in drawn], features)
        try:
            pngs = draw_maps(style, tables, snapshots, marked)
            images = {i: png for (i, _), png in zip(drawn, pngs, strict=True)}
        except RenderError as exc:  # the report still lists every finding, without images
            log.warning("review report: no finding maps: %s", exc)
    places = []
    for i, finding in enumerate(review.findings):
        spec = specs.get(finding.layer)
        view = views[i]
        places.append(
            FindingPlace(
                spec.title_zh if spec else finding.layer,
                spec.title_en if spec else finding.layer,
                name=_name(features.get(finding.layer), finding.feature),
                link=viewer_link(view, _layers(finding)) if view is not None else None,
                image=images.get(i),
            )
        )
    return places


def no_places(review: Review) -> Sequence[FindingPlace]:
    """Places for a report written without its inputs (layer ids stand for the titles)."""
    return [FindingPlace(f.layer, f.layer) for f in review.findings]


def viewer_link(view: MapView, layers: Sequence[str]) -> str:
    """The staff viewer's permalink at `view` with `layers` shown (web/src/permalink.js)."""
    return f"{VIEWER}#map={view.zoom:.2f}/{view.lat:.5f}/{view.lon:.5f}&layers={','.join(layers)}"


def read_features(
    path: Path, layer: str, features: Iterable[str], id_field: str, name_field: str | None
) -> gpd.GeoDataFrame:
    """The rows of table `layer` of `path` that findings name `features` (id values as text,
    "#<row>" for a feature without one): column KEY (that name), "name" (the name field's
    value, None without one) and the geometry (EPSG:4326). An id used twice gives two rows."""
    info = pyogrio.read_info(path, layer=layer)
    columns = info["fields"].tolist()
    wanted = set(features)
    rows = sorted(int(f[1:]) for f in wanted if f.startswith("#") and f[1:].isdigit())
    ids = sorted(f for f in wanted if not f.startswith("#"))
    keep = list(dict.fromkeys(c for c in (id_field, name_field) if c is not None and c in columns))
    fid = info["fid_column"] or "fid"
    parts = []
    if rows:
        parts.append(_read(path, layer, keep, f"{quote(fid)} IN ({','.join(map(str, rows))})"))
    if ids and id_field in columns:
        parts.append(_read(path, layer, keep, f"{quote(id_field)} IN ({_texts(ids)})"))
    if not parts:
        return gpd.GeoDataFrame({KEY: [], "name": []}, geometry=[], crs="EPSG:4326")
    frame = pd.concat(parts)
    by_id = frame[id_field].map(id_text) if id_field in frame.columns else None
    key = [
        f"#{fid}" if f"#{fid}" in wanted or by_id is None or by_id[fid] is None else by_id[fid]
        for fid in frame.index
    ]
    names = frame[name_field].map(id_text) if name_field in frame.columns else None
    return gpd.GeoDataFrame(
        {KEY: key, "name": names.to_numpy() if names is not None else None},
        geometry=frame.geometry.to_numpy(),
        crs="EPSG:4326",
    )


def _read(path: Path, layer: str, columns: list[str], where: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(
        path, layer=layer, columns=columns, where=where, fid_as_index=True
    )


def _texts(values: Iterable[str]) -> str:
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)


def _named_features(findings: Iterable[Finding]) -> dict[str, set[str]]:
    """Per layer, the features the findings name (their own and the other one)."""
    named: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        if finding.omitted:
            continue
        if finding.feature is not None:
            named[finding.layer].add(finding.feature)
        if finding.other_feature is not None:
            named[finding.other_layer or finding.layer].add(finding.other_feature)
    return named


def _with_images(
    findings: Sequence[Finding], views: Sequence[MapView | None]
) -> list[tuple[int, MapView]]:
    """The findings drawn (index, view): the first IMAGES_PER_KIND located ones of each kind."""
    seen: Counter[str] = Counter()
    drawn = []
    for i, (finding, view) in enumerate(zip(findings, views, strict=True)):
        if view is None:
            continue
        seen[finding.kind] += 1
        if seen[finding.kind] <= IMAGES_PER_KIND:
            drawn.append((i, view))
    return drawn


def _rows(features: gpd.GeoDataFrame | None, feature: str | None) -> gpd.GeoDataFrame | None:
    if features is None or feature is None:
        return None
    rows = features[features[KEY] == feature]
    return rows if not rows.empty else None


def _view(finding: Finding, features: Mapping[str, gpd.GeoDataFrame]) -> MapView | None:
    """The finding's view: centred on its lon/lat, its own feature(s) in the frame."""
    if finding.lonlat is None or finding.omitted:
        return None
    rows = _rows(features.get(finding.layer), finding.feature)
    bounds = None
    if rows is not None and not rows.geometry.is_empty.all():
        bounds = tuple(float(v) for v in rows.total_bounds)
    return fit_view(finding.lonlat, bounds)


def _marked(
    findings: Iterable[Finding], features: Mapping[str, gpd.GeoDataFrame]
) -> gpd.GeoDataFrame:
    """The features the drawn findings name and a point at each finding (EPSG:4326)."""
    geoms: list[Any] = []
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        if finding.lonlat is not None:
            geoms.append(shapely.Point(finding.lonlat))
        for layer, feature in (
            (finding.layer, finding.feature),
            (finding.other_layer or finding.layer, finding.other_feature),
        ):
            rows = _rows(features.get(layer), feature)
            if rows is not None and (layer, str(feature)) not in seen:
                seen.add((layer, str(feature)))
                geoms += list(rows.geometry)
    return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")


def _name(features: gpd.GeoDataFrame | None, feature: str | None) -> str | None:
    rows = _rows(features, feature)
    if rows is None:
        return None
    name = rows["name"].iloc[0]
    return None if name is None or pd.isna(name) else str(name)


def _layers(finding: Finding) -> list[str]:
    """The layers the viewer shows for a finding: its own, and the one it conflicts with."""
    other = finding.other_layer
    return [finding.layer] + ([other] if other and other != finding.layer else [])
