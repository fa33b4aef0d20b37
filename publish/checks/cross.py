"""Review checks across layers, on whole layers in the city's working CRS (metres).

* :func:`check_control_lines`: the three control lines (red line, permanent farmland, urban
  development boundary) must not overlap one another beyond a small area.
* :func:`check_zone_coverage`: the planning zones cover the administrative area with no gaps,
  no overlaps and nothing outside it.
* :func:`measure_control_lines`: the figures the report gives beside them: each line's area
  (the union of its features), its share of the city, and the lines' pairwise overlaps.

Candidate pairs come from an STRtree; areas are exact intersections, computed vectorized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from publish.catalog import CONTROL_LINE_ROLES, LayerSpec
from publish.checks.findings import Finding, FindingLimiter, make_finding
from publish.checks.geometry import (
    POLYGON,
    families,
    id_text,
    make_valid_array,
    points_to_lonlat,
)

__all__ = ["ZONE_KINDS", "check_control_lines", "check_zone_coverage", "measure_control_lines"]

# the kinds check_zone_coverage reports
ZONE_KINDS = ("zone_gap", "zone_overlap", "zone_outside")

_ROLE_ZH = {
    "red_line": "生态保护红线",
    "farmland": "永久基本农田",
    "urban_boundary": "城镇开发边界",
}


def check_control_lines(
    layers: Mapping[str, gpd.GeoDataFrame],
    specs: Sequence[LayerSpec],
    *,
    crs: str,
    tolerance_m2: float = 1.0,
    limit: int = 200,
) -> list[Finding]:
    """One BLOCKING ``control_line_overlap`` finding per pair of overlapping features of two
    layers with different control-line roles, when their overlap exceeds ``tolerance_m2``.

    ``layers`` maps layer ids to frames carrying each spec's ``id_field``; areas are measured
    in ``crs``, the city's working CRS (frames in another CRS are projected to it). The
    finding belongs to the layer whose role comes later in CONTROL_LINE_ROLES (red line,
    farmland, urban boundary): a farmland parcel inside the red line is reported on the
    farmland layer, with the red line as ``other_layer``.
    """
    limiter = FindingLimiter(limit)
    lines = [s for s in specs if s.role in CONTROL_LINE_ROLES and s.id in layers]
    lines.sort(key=lambda s: CONTROL_LINE_ROLES.index(s.role))
    prepared = {s.id: _prepare(layers[s.id], crs) for s in lines}
    for a_pos, other in enumerate(lines):
        for spec in lines[a_pos + 1 :]:
            if spec.role == other.role:
                continue
            _overlaps_between(
                limiter,
                spec,
                prepared[spec.id],
                layers[spec.id],
                other,
                prepared[other.id],
                layers[other.id],
                tolerance_m2,
                crs,
            )
    return limiter.findings()


def measure_control_lines(
    layers: Mapping[str, gpd.GeoDataFrame],
    specs: Sequence[LayerSpec],
    *,
    crs: str,
    city: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """The control lines' figures, in ``crs`` (m², rounded to 0.01): per role of
    CONTROL_LINE_ROLES, its layers and the area of the union of their features (None without a
    layer) and that area's share (0..1) of the area of the union of ``city`` (None without it);
    per pair of roles that both have layers, the area of the intersection of their unions (0
    when the lines are clean). Each union is computed once, vectorised (shapely.union_all).
    """
    unions: dict[str, shapely.Geometry] = {}
    lines = []
    whole = _union_area(_prepare(city, crs)) if city is not None and len(city) else None
    for role in CONTROL_LINE_ROLES:
        ids = [s.id for s in specs if s.role == role and s.id in layers]
        area = None
        if ids:
            unions[role] = shapely.union_all(
                np.concatenate([_prepare(layers[lid], crs) for lid in ids])
            )
            area = round(float(shapely.area(unions[role])), 2)
        share = round(area / whole, 6) if area is not None and whole else None
        lines.append({"role": role, "layers": ids, "area_m2": area, "share": share})
    present = [role for role in CONTROL_LINE_ROLES if role in unions]
    overlaps = [
        {
            "roles": [a, b],
            "area_m2": round(float(shapely.area(shapely.intersection(unions[a], unions[b]))), 2),
        }
        for i, a in enumerate(present)
        for b in present[i + 1 :]
    ]
    return {
        "city_m2": round(whole, 2) if whole is not None else None,
        "lines": lines,
        "overlaps": overlaps,
    }


def _union_area(geoms: np.ndarray) -> float:
    return float(shapely.area(shapely.union_all(geoms)))


def _overlaps_between(
    limiter: FindingLimiter,
    spec: LayerSpec,
    geoms: np.ndarray,
    frame: gpd.GeoDataFrame,
    other: LayerSpec,
    other_geoms: np.ndarray,
    other_frame: gpd.GeoDataFrame,
    tolerance_m2: float,
    crs: str,
) -> None:
    left, right = _overlapping_pairs(geoms, other_geoms)
    if len(left) == 0:
        return
    pieces = shapely.intersection(geoms[left], other_geoms[right])
    area = shapely.area(pieces)
    keep = np.flatnonzero(area > tolerance_m2)
    if len(keep) == 0:
        return
    order = keep[np.lexsort((right[keep], left[keep]))]
    room = limiter.room(spec.id, "control_line_overlap")
    limiter.count(spec.id, "control_line_overlap", max(len(order) - room, 0))
    order = order[:room]
    where = points_to_lonlat(shapely.point_on_surface(pieces[order]), crs)
    ids, other_ids = _labels(frame, spec.id_field), _labels(other_frame, other.id_field)
    name, other_name = _ROLE_ZH[spec.role], _ROLE_ZH[other.role]
    for k, at in zip(order, where, strict=True):
        a, b, m2 = ids[left[k]], other_ids[right[k]], round(float(area[k]), 1)
        limiter.add(
            make_finding(
                "control_line_overlap",
                spec.id,
                f"layer {spec.id}, feature {a} overlaps layer {other.id}, feature {b} "
                f"by {m2:,.1f} m² ({spec.role} and {other.role} must not overlap)",
                f"{name}（{spec.id}）要素 {a} 与{other_name}（{other.id}）要素 {b} "
                f"重叠 {m2:,.1f} m²，控制线不得重叠",
                feature=a,
                other_layer=other.id,
                other_feature=b,
                area_m2=m2,
                lonlat=at,
            )
        )


def check_zone_coverage(
    zones: gpd.GeoDataFrame,
    admin: gpd.GeoDataFrame,
    *,
    layer: str,
    crs: str,
    tolerance_m2: float = 1.0,
    limit: int = 200,
    id_field: str = "BSM",
) -> list[Finding]:
    """Planning zones (``layer``) must cover the administrative area (the union of ``admin``)
    exactly. BLOCKING findings, each piece larger than ``tolerance_m2``:

    * ``zone_gap``: a piece of the administrative area no zone covers;
    * ``zone_overlap``: a piece covered by two zones (both named);
    * ``zone_outside``: a piece of a zone outside the administrative area.

    Areas are measured in ``crs``, the city's working CRS; ``zones`` carries ``id_field``.
    """
    limiter = FindingLimiter(limit)
    geoms = _prepare(zones, crs)
    admin_geoms = _prepare(admin, crs)
    labels = _labels(zones, id_field)
    area_all = shapely.union_all(admin_geoms)
    # union_all, not coverage_union_all: the fast coverage union needs a valid coverage (shared
    # edges noded alike), which is what is being checked; it raises or errs on slivers
    zones_all = shapely.union_all(geoms)

    gaps = _pieces(shapely.difference(area_all, zones_all), tolerance_m2)
    _add_pieces(limiter, "zone_gap", layer, crs, gaps, [None] * len(gaps))

    outside = _pieces(shapely.difference(zones_all, area_all), tolerance_m2)
    owners = _owners(outside, geoms, labels)
    _add_pieces(limiter, "zone_outside", layer, crs, outside, owners)

    left, right = _overlapping_pairs(geoms, geoms, same=True)
    pieces = shapely.intersection(geoms[left], geoms[right])
    big = shapely.area(pieces) > tolerance_m2
    parts, index = shapely.get_parts(pieces[big], return_index=True)
    a, b = left[big][index], right[big][index]
    polygonal = (families(parts) == POLYGON) & (shapely.area(parts) > tolerance_m2)
    parts, a, b = parts[polygonal], a[polygonal], b[polygonal]
    _add_pieces(
        limiter,
        "zone_overlap",
        layer,
        crs,
        parts,
        [labels[i] for i in a],
        [labels[j] for j in b],
    )
    return limiter.findings()


def _overlapping_pairs(
    geoms: np.ndarray, others: np.ndarray, *, same: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (into geoms, into others) whose interiors intersect: candidates from an
    STRtree ('intersects'), then the DE-9IM test, which drops the many pairs that only touch
    along a shared edge before the costly exact intersections. ``same``: geoms is others, keep
    each pair once (i < j)."""
    left, right = shapely.STRtree(others).query(geoms, predicate="intersects")
    if same:
        once = left < right
        left, right = left[once], right[once]
    inner = shapely.relate_pattern(geoms[left], others[right], "T********")
    return left[inner], right[inner]


def _pieces(geom: shapely.Geometry, tolerance_m2: float) -> np.ndarray:
    """The polygons of ``geom`` larger than ``tolerance_m2``, largest first."""
    parts = shapely.get_parts(geom)
    while len(parts) and (shapely.get_type_id(parts) >= 4).any():
        parts = shapely.get_parts(parts)
    parts = parts[families(parts) == POLYGON]
    area = shapely.area(parts)
    keep = area > tolerance_m2
    parts, area = parts[keep], area[keep]
    return parts[np.argsort(-area, kind="stable")]


def _owners(pieces: np.ndarray, geoms: np.ndarray, labels: list[str]) -> list[str | None]:
    """For each piece, the zone it comes from (the one its interior point lies in)."""
    if len(pieces) == 0:
        return []
    inner = shapely.point_on_surface(pieces)
    found, zone = shapely.STRtree(geoms).query(inner, predicate="intersects")
    owner: list[str | None] = [None] * len(pieces)
    for piece, z in zip(found, zone, strict=True):
        if owner[piece] is None:
            owner[piece] = labels[z]
    return owner


_PIECE_TEXT = {
    "zone_gap": (
        "a gap of {m2} m² inside the administrative area is covered by no planning zone",
        "行政区内有 {m2} m² 未被任何规划分区覆盖（缝隙）",
    ),
    "zone_outside": (
        "{m2} m² of the planning zones lie outside the administrative area",
        "规划分区有 {m2} m² 超出行政区范围",
    ),
    "zone_overlap": (
        "{m2} m² are covered by two planning zones",
        "有 {m2} m² 被两个规划分区重复覆盖",
    ),
}


def _add_pieces(
    limiter: FindingLimiter,
    kind: str,
    layer: str,
    crs: str,
    pieces: np.ndarray,
    features: Sequence[str | None],
    others: Sequence[str | None] | None = None,
) -> None:
    room = limiter.room(layer, kind)
    limiter.count(layer, kind, max(len(pieces) - room, 0))
    pieces = pieces[:room]
    where = points_to_lonlat(shapely.point_on_surface(pieces), crs)
    area = shapely.area(pieces)
    english, chinese = _PIECE_TEXT[kind]
    for i, at in enumerate(where):
        m2 = round(float(area[i]), 1)
        feature = features[i]
        other = others[i] if others is not None else None
        near = f" near {at[0]:.6f},{at[1]:.6f}" if at else ""
        near_zh = f"，位置 {at[0]:.6f},{at[1]:.6f}" if at else ""
        if feature is not None and other is not None:
            who, who_zh = f"features {feature} and {other}: ", f"要素 {feature} 与 {other}："
        elif feature is not None:
            who, who_zh = f"feature {feature}: ", f"要素 {feature}："
        else:
            who, who_zh = "", ""
        limiter.add(
            make_finding(
                kind,
                layer,
                f"layer {layer}, {who}{english.format(m2=f'{m2:,.1f}')}{near}",
                f"图层 {layer} {who_zh}{chinese.format(m2=f'{m2:,.1f}')}{near_zh}",
                feature=feature,
                other_layer=layer if other is not None else None,
                other_feature=other,
                area_m2=m2,
                lonlat=at,
            )
        )


def _prepare(frame: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """The frame's geometries in ``crs``, the invalid ones repaired."""
    if frame.crs is not None and CRS.from_user_input(frame.crs) != CRS.from_user_input(crs):
        frame = frame.to_crs(crs)
    return make_valid_array(np.asarray(frame.geometry.array, dtype=object))


def _labels(frame: gpd.GeoDataFrame, id_field: str) -> list[str]:
    """Each feature's id as text, or its 1-based row ("#12") without one."""
    if id_field not in frame.columns:
        return [f"#{i + 1}" for i in range(len(frame))]
    labels = []
    for i, value in enumerate(frame[id_field].to_numpy()):
        text = id_text(value)
        labels.append(text if text is not None else f"#{i + 1}")
    return labels
