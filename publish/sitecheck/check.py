"""The site check: exact overlaps with control lines, zones and land use in the city's working
CRS (the release catalog's), a verdict, and what surrounds the site.

Candidates come from each layer's R-tree (a lon/lat box around the site); shapely intersects and
intersects exactly on those only. Areas are of the union of a layer's overlaps, so features that
overlap each other are not counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from publish.catalog import CONTROL_LINE_ROLES, LayerSpec
from publish.errors import PublishError
from publish.sitecheck.inputs import SiteInput, project
from publish.sitecheck.store import Candidates, SiteStore, lonlat_bbox
from publish.standards import land_use_classes

TOLERANCE_M2 = 1.0  # overlaps at or below this are slivers, not conflicts
NEAREST = 5  # features listed per surroundings category

# Surroundings categories of 'other' layers, by layer id (the database standard's layer codes).
SURROUNDING_IDS = {"cun": "villages", "dl": "roads", "hl": "rivers", "zrbhd": "protected_areas"}

_LINE_NAMES = {
    "red_line": ("生态保护红线", "the ecological protection red line"),
    "farmland": ("永久基本农田", "permanent basic farmland"),
    "urban_boundary": ("城镇开发边界", "the urban development boundary"),
}


def _round(value: float) -> float:
    return round(float(value), 2)


class _Overlaps:
    """One layer's candidates that overlap the site, with their intersections.

    Only features that cross the site's boundary are overlaid: a prepared candidate that contains
    the whole site (a zone, a red-line patch or a county around a small site: the common case)
    meets it in the site itself, and a feature inside the site (parcels in a large site) in
    itself.
    """

    def __init__(self, site: BaseGeometry, found: Candidates) -> None:
        self.spec = found.spec
        geoms = found.geometries
        hit = np.zeros(len(geoms), dtype=bool)
        if len(geoms):
            present = ~shapely.is_missing(geoms)
            hit[present] = shapely.intersects(geoms[present], site)
        self.index = np.flatnonzero(hit)
        self.found = found
        self.parts = np.empty(len(self.index), dtype=object)
        if len(self.index):
            touched = geoms[self.index]
            prepared = shapely.is_prepared(touched)
            whole = np.zeros(len(touched), dtype=bool)
            whole[prepared] = shapely.contains_properly(touched[prepared], site)
            self.parts[whole] = site
            rest = np.flatnonzero(~whole)
            inner = shapely.contains_properly(site, touched[rest])  # the site is prepared
            self.parts[rest[inner]] = touched[rest[inner]]
            cut = rest[~inner]
            if len(cut):
                self.parts[cut] = shapely.intersection(site, touched[cut])
        self.areas = shapely.area(self.parts) if len(self.index) else np.empty(0)

    def total(self) -> float:
        if not len(self.index):
            return 0.0
        return float(shapely.union_all(self.parts).area)

    def features(self) -> list[dict[str, Any]]:
        rows = [
            {
                "layer": self.spec.id,
                "fid": self.found.ids[i],
                "bsm": self.found.bsm[i],
                "name": self.found.names[i],
                "overlap_m2": _round(area),
            }
            for i, area in zip(self.index, self.areas, strict=True)
            if area > 0
        ]
        return sorted(rows, key=lambda r: -r["overlap_m2"])

    def by_code(self) -> dict[Any, tuple[float, Any]]:
        """Overlap area and a name for each code (summed over features)."""
        result: dict[Any, tuple[float, Any]] = {}
        for i, area in zip(self.index, self.areas, strict=True):
            code = self.found.codes[i]
            before, name = result.get(code, (0.0, None))
            result[code] = (before + float(area), name or self.found.names[i])
        return result


def _classes(
    site_area: float, overlaps: Iterable[_Overlaps], standard: bool
) -> list[dict[str, Any]]:
    classes = land_use_classes()
    rows = []
    for ov in overlaps:
        for code, (area, name) in ov.by_code().items():
            if area <= 0:
                continue
            if standard and isinstance(code, str) and code in classes:
                name = classes[code].name
            rows.append(
                {
                    "layer": ov.spec.id,
                    "code": code,
                    "name": name,
                    "area_m2": _round(area),
                    "share": round(area / site_area, 6),
                }
            )
    return sorted(rows, key=lambda r: -r["area_m2"])


def _reason(code: str, zh: str, en: str) -> dict[str, str]:
    return {"code": code, "zh": zh, "en": en}


def _matches(planned: Any, intended: str) -> bool:
    return isinstance(planned, str) and (
        planned.startswith(intended) or intended.startswith(planned)
    )


def _verdict(
    site_area: float,
    lines: dict[str, dict[str, Any]],
    land_use: list[dict[str, Any]],
    intended: str | None,
    plan_share: float,
) -> tuple[str, list[dict[str, str]]]:
    prohibited: list[dict[str, str]] = []
    review: list[dict[str, str]] = []
    for role in ("red_line", "farmland"):
        line = lines.get(role)
        if line and line["overlap_m2"] > TOLERANCE_M2:
            zh, en = _LINE_NAMES[role]
            prohibited.append(
                _reason(
                    f"{role}_overlap",
                    f"用地与{zh}重叠 {line['overlap_m2']:.2f} 平方米",
                    f"the site overlaps {en} by {line['overlap_m2']:.2f} m²",
                )
            )
    if plan_share <= 0:
        review.append(
            _reason(
                "outside_plan_area", "用地位于规划范围之外", "the site is outside the plan area"
            )
        )
    elif plan_share < 1 - 1e-6:
        review.append(
            _reason(
                "partly_outside_plan_area",
                f"用地有 {(1 - plan_share) * 100:.1f}% 位于规划范围之外",
                f"{(1 - plan_share) * 100:.1f} % of the site is outside the plan area",
            )
        )
    urban = lines.get("urban_boundary")
    if urban is not None:
        outside = site_area - urban["overlap_m2"]
        if outside > TOLERANCE_M2:
            review.append(
                _reason(
                    "outside_urban_boundary",
                    f"用地有 {outside:.2f} 平方米位于城镇开发边界之外",
                    f"{outside:.2f} m² of the site is outside the urban development boundary",
                )
            )
    if intended is not None:
        name = land_use_classes()[intended].name
        covered = sum(r["area_m2"] for r in land_use)
        other = sorted({str(r["code"]) for r in land_use if not _matches(r["code"], intended)})
        if other:
            review.append(
                _reason(
                    "land_use_mismatch",
                    f"规划用途（{'、'.join(other)}）与拟用途 {intended} {name} 不符",
                    f"the planned use ({', '.join(other)}) does not match the intended use "
                    f"{intended}",
                )
            )
        if site_area - covered > TOLERANCE_M2:
            review.append(
                _reason(
                    "no_planned_use",
                    f"用地有 {site_area - covered:.2f} 平方米无用地用海规划",
                    f"{site_area - covered:.2f} m² of the site has no planned land use",
                )
            )
    if prohibited:
        return "prohibited", prohibited + review
    if review:
        return "review", review
    return "conforming", [
        _reason(
            "conforming",
            "未发现与控制线或规划的冲突",
            "no conflict with the control lines or the plan",
        )
    ]


def _surroundings(store: SiteStore, site: BaseGeometry, radius: float) -> dict[str, Any]:
    area = site.buffer(radius) if radius > 0 else site
    result: dict[str, list[dict[str, Any]]] = {}
    layers: list[tuple[str, LayerSpec]] = [
        ("urban_boundary", s) for s in store.by_role("urban_boundary")
    ]
    for spec in store.by_role("other"):
        layers.append((SURROUNDING_IDS.get(spec.id, spec.id), spec))
    for category, spec in layers:
        found = store.candidates(spec, area)
        rows = result.setdefault(category, [])
        if not len(found.geometries):
            continue
        present = ~shapely.is_missing(found.geometries)
        distance = np.full(len(found.geometries), np.inf)
        distance[present] = shapely.distance(site, found.geometries[present])
        for i in np.flatnonzero(distance <= radius):
            rows.append(
                {
                    "layer": spec.id,
                    "fid": found.ids[i],
                    "bsm": found.bsm[i],
                    "name": found.names[i],
                    "distance_m": _round(distance[i]),
                }
            )
    for category, rows in result.items():
        rows.sort(key=lambda r: (r["distance_m"], r["layer"], r["fid"]))
        result[category] = rows[:NEAREST]
    return {"radius_m": radius, **result}


def check_site(store: SiteStore, site: SiteInput) -> dict[str, Any]:
    """The site report: areas in m² (in the store's working CRS), overlaps, verdict with reasons,
    surroundings. One check at a time per store (its resident geometries are prepared: not
    thread-safe)."""
    if site.work_crs != store.crs:
        raise PublishError(f"the site is in {site.work_crs}, the release's features in {store.crs}")
    with store.check_lock:
        return _check_site(store, site)


def _check_site(store: SiteStore, site: SiteInput) -> dict[str, Any]:
    geometry = site.geometry
    shapely.prepare(geometry)
    site_area = float(geometry.area)
    bbox = lonlat_bbox(geometry, store.crs)

    def overlaps(role: str) -> list[_Overlaps]:
        return [_Overlaps(geometry, store.candidates(s, geometry)) for s in store.by_role(role)]

    admin = store.by_role("admin")
    plan_share = 1.0
    if admin:
        plan_share = _Overlaps(geometry, store.candidates(admin[0], geometry)).total() / site_area
    lines: dict[str, dict[str, Any]] = {}
    for role in CONTROL_LINE_ROLES:
        found = overlaps(role)
        if not found:
            continue
        parts = [p for ov in found for p in ov.parts]
        total = float(shapely.union_all(parts).area) if parts else 0.0
        lines[role] = {
            "layers": [ov.spec.id for ov in found],
            "overlap_m2": _round(total),
            "share": round(total / site_area, 6),
            "features": [f for ov in found for f in ov.features()],
        }
    zones = _classes(site_area, overlaps("planning_zone"), standard=False)
    land_use = _classes(site_area, overlaps("land_use"), standard=True)
    current = _classes(site_area, overlaps("current_use"), standard=False)
    others = [f for ov in overlaps("other") for f in ov.features()]
    verdict, reasons = _verdict(site_area, lines, land_use, site.intended_use, plan_share)
    lon_lat = json.loads(shapely.to_geojson(project(geometry, store.crs, "EPSG:4326")))
    return {
        "site": {
            "area_m2": _round(site_area),
            "crs": site.crs,
            "buffer_m": site.buffer_m,
            "repaired": site.repaired,
            "bbox": [round(v, 7) for v in bbox],
            "geometry": lon_lat,
        },
        "outside_plan_area": plan_share <= 0,
        "plan_area_share": round(plan_share, 6),
        "intended_use": site.intended_use,
        "verdict": verdict,
        "reasons": reasons,
        "control_lines": lines,
        "planning_zones": zones,
        "land_use": land_use,
        "current_use": current,
        "other_overlaps": others,
        "surroundings": _surroundings(store, geometry, site.surroundings_m),
        "layers": [s.id for s in store.layers],
    }
