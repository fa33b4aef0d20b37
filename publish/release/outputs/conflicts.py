"""The conflict analysis (规划分析评价, publish.indicators.conflicts) of each audience, from the
layers it sees: conflicts/<audience>.json (schema "onemap-conflicts/1", manifest
audiences[aud]["conflicts"]), the polygons of the `conflicts` tile layer (handed to the tiles
output through `job.made`, in EPSG:4326) and, from every layer, one review warning
(`plan_conflict`) per county and kind with an area, added before the review is written.
Checked: the document parses, is the audience's, and names only layers the audience sees."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

from publish.checks.findings import Finding, make_finding
from publish.domain import INTERNAL
from publish.errors import BuildError, PublishError
from publish.features.indicators import county_layer
from publish.features.store import STORE_CRS
from publish.gpkg.schema import quote
from publish.indicators.conflicts import (
    KINDS,
    POLYGON_COLUMNS,
    SELECTIONS,
    ConflictKind,
    Conflicts,
    compute_conflicts,
    conflict_inputs,
    selected,
)
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput

CONFLICTS_KEY = "conflicts"
SCHEMA = "onemap-conflicts/1"
RULE = "plan_conflict"
CONFLICT_FIELDS = POLYGON_COLUMNS  # the `conflicts` tile layer's properties


def _read_codes(job: ReleaseJob, layer_id: str, classes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Only the features of a (large) coded layer whose first level is one of `classes`, with
    the code column, in the working CRS: the current-use parcels are not read whole."""
    field = job.catalog.layer(layer_id).code_field or ""
    wanted = ", ".join(f"'{c}'" for c in sorted(classes))
    path = job.layers[layer_id].features_path
    try:
        frame = pyogrio.read_dataframe(
            path,
            layer=layer_id,
            columns=[field],
            where=f"substr({quote(field)}, 1, 2) IN ({wanted})",
        )
    except Exception as exc:  # pyogrio raises its own and GDAL's errors
        raise BuildError(f"conflicts: cannot read layer {layer_id} from {path} ({exc})") from exc
    return frame.to_crs(job.catalog.crs)


def _selections(job: ReleaseJob, inputs: Mapping[str, str]) -> dict[str, np.ndarray]:
    """The geometries of each selection of `inputs` ({selection: layer id})."""
    out = {}
    for name, layer_id in inputs.items():
        selection = SELECTIONS[name]
        spec = job.catalog.layer(layer_id)
        layer = job.layers[layer_id]
        if spec.role == "current_use" and selection.classes is not None and layer.kept is None:
            # both current-use selections from one filtered read of the layer
            together = tuple(
                c
                for s in SELECTIONS.values()
                if inputs.get(s.name) == layer_id and s.classes
                for c in s.classes
            )
            frame = _read_codes(job, layer_id, together)
        else:  # kept in memory from the build's read, or small
            frame = job.frame(layer)
        out[name] = selected(frame, selection, spec.code_field, job.catalog.crs)
    return out


def _kinds(inputs: Mapping[str, str]) -> tuple[ConflictKind, ...]:
    return tuple(k for k in KINDS if k.subject in inputs and k.other in inputs)


def _compute(job: ReleaseJob, inputs: Mapping[str, str], county: str | None) -> Conflicts:
    city = job.catalog.meta.get("city") or {}
    return compute_conflicts(
        _kinds(inputs),
        _selections(job, inputs),
        counties=job.frame(job.layers[county]) if county else None,
        crs=job.catalog.crs,
        city_code=str(city["code"]) if city.get("code") else None,
        city_name=str(city["name"]) if city.get("name") else None,
    )


def document(job: ReleaseJob, audience: str, inputs: Mapping[str, str], found: Conflicts) -> Any:
    """The conflicts document of one audience (see the module docstring)."""
    return {
        "schema": SCHEMA,
        "release": job.release_id,
        "audience": audience,
        "kinds": [
            {
                "id": kind.id,
                "name": {"zh": kind.zh, "en": kind.en},
                "layers": [inputs[kind.subject], inputs[kind.other]],
            }
            for kind in found.kinds
        ],
        "areas": found.areas,
    }


def findings(found: Conflicts, inputs: Mapping[str, str], crs: str) -> list[Finding]:
    """One warning per county (the city when there are no counties) and kind with an area,
    placed on a point of its largest polygon."""
    rows = [r for r in found.areas if r["area_m2"] > 0]
    by_county = any(r["scope"] == "county" for r in found.areas)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    kinds = {kind.id: kind for kind in found.kinds}
    out = []
    for row in rows:
        if by_county != (row["scope"] == "county"):
            continue
        kind = kinds[row["kind"]]
        polygons = found.polygons[found.polygons["kind"] == kind.id]
        if by_county:
            polygons = polygons[polygons["county"] == row["code"]]
        largest = polygons.geometry.array[int(np.argmax(polygons["area_m2"].to_numpy()))]
        point = shapely.point_on_surface(largest)
        lon, lat = to_lonlat.transform(point.x, point.y)
        unit = f"{row['name'] or ''}（{row['code']}）" if row["code"] else str(row["name"] or "")
        layers = (inputs[kind.subject], inputs[kind.other])
        out.append(
            make_finding(
                RULE,
                layers[0],
                f"{unit}: {kind.en}: {row['area_ha']:.4f} ha in {row['features']} polygon(s) "
                f"(layers {layers[0]} and {layers[1]})",
                f"{unit}：{kind.zh} {row['area_ha']:.4f} 公顷，{row['features']} 处"
                f"（图层 {layers[0]} 与 {layers[1]}）",
                other_layer=layers[1],
                lonlat=(round(lon, 6), round(lat, 6)),
                area_m2=row["area_m2"],
                value=kind.id,
            )
        )
    return out


def write(job: ReleaseJob) -> dict[str, str]:
    computed: dict[Any, Conflicts] = {}
    tiles: dict[Any, gpd.GeoDataFrame] = {}  # one frame for audiences seeing the same layers
    out, polygons = {}, {}
    for audience, specs in job.audiences():
        visible = {s.id for s in specs}
        inputs = conflict_inputs(job.catalog, visible)
        county = county_layer(job.catalog, {lid: job.layers[lid].count for lid in visible})
        key = (tuple(sorted(inputs.items())), county)
        with job.stages.stage(f"conflicts ({audience})"):
            if key not in computed:  # the audiences usually see the same layers
                computed[key] = _compute(job, inputs, county)
            found = computed[key]
            out[audience] = f"{CONFLICTS_KEY}/{audience}.json"
            doc = document(job, audience, inputs, found)
            job.path(out[audience]).write_text(
                json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            if key not in tiles:
                tiles[key] = found.polygons.to_crs(STORE_CRS)
            polygons[audience] = tiles[key]
        if audience == INTERNAL:
            job.review.extend(findings(found, inputs, job.catalog.crs))
    job.made[CONFLICTS_KEY] = polygons
    return out


def conflict_frames(job: ReleaseJob) -> Mapping[str, gpd.GeoDataFrame]:
    """Each audience's `conflicts` tile layer (EPSG:4326), as `write` left it."""
    frames: Mapping[str, gpd.GeoDataFrame] = job.made.get(CONFLICTS_KEY, {})
    return frames


def conflict_minzooms(job: ReleaseJob, audience: str, frame: gpd.GeoDataFrame) -> np.ndarray:
    """The zoom from which each row of the audience's `conflicts` tile layer is drawn: that of
    the layers its kind comes from (the highest of their catalog minzooms). A piece of a
    current-use (三调) parcel appears with the parcels (catalog minzoom 10 in the sample), not at
    the city view, where thousands of them were most of the first view's tiles though the layer
    is off when the map opens."""
    doc = json.loads(job.path(job.entry(CONFLICTS_KEY, audience)).read_text(encoding="utf-8"))
    zooms = {
        kind["id"]: max(job.catalog.layer(layer_id).minzoom for layer_id in kind["layers"])
        for kind in doc["kinds"]
    }
    return np.array([zooms.get(kind, 0) for kind in frame["kind"]], dtype=np.int64)


def drawn_kinds(job: ReleaseJob, audience: str) -> list[str]:
    """The kinds of the audience's `conflicts` tile layer (those with an area), in KINDS
    order; none when its archive has no such layer."""
    tiles = job.entry("tiles", audience) or {}
    if CONFLICTS_KEY not in (tiles.get("extra_layers") or ()):
        return []
    doc = json.loads(job.path(job.entry(CONFLICTS_KEY, audience)).read_text(encoding="utf-8"))
    present = {row["kind"] for row in doc["areas"] if row["area_m2"] > 0}
    return [kind["id"] for kind in doc["kinds"] if kind["id"] in present]


def read_conflicts(part: OutputPart) -> dict[str, Any]:
    """The audience's conflicts document (ValueError, OSError when unreadable)."""
    doc = json.loads(part.file().read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"not a {SCHEMA} document")
    return doc


def check(part: OutputPart) -> list[str]:
    try:
        doc = read_conflicts(part)
    except (OSError, ValueError, PublishError) as exc:
        return [f"{part.entry}: unreadable: {exc}"]
    problems = []
    if doc.get("audience") != part.audience:
        problems.append(f"{part.entry}: audience {doc.get('audience')!r}, not {part.audience!r}")
    named = {str(lid) for kind in doc.get("kinds") or [] for lid in kind.get("layers") or []}
    if unseen := sorted(named - part.layers):
        problems.append(f"{part.entry} names layers not listed for {part.audience}: {unseen}")
    kinds = {kind.get("id") for kind in doc.get("kinds") or []}
    if stray := sorted({str(row.get("kind")) for row in doc.get("areas") or []} - kinds):
        problems.append(f"{part.entry}: areas of kinds it does not list: {stray}")
    return problems


CONFLICTS = ReleaseOutput(CONFLICTS_KEY, write, check=check, load=read_conflicts)
