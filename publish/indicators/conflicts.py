"""Conflict analysis (规划分析评价): where the current land use or the planned one contradicts the
control lines — construction inside the ecological protection red line or on permanent basic
farmland, farmland left outside the protected farmland or planned for construction.

Selections, each from the first catalog layer of its role that an audience sees (never a
layer id), by the first level of the layer's code (`code_field`, the national classification
用地用海分类, 自然资发〔2023〕234号, which the current-use layer carries as well):

* current construction (现状建设用地): `current_use` parcels of first level 07–15
  (CURRENT_CONSTRUCTION). These are the 三调's construction classes as the 2023 classification
  codes them: 05 商服 → 09, 06 工矿仓储 → 10/11, 07 住宅 → 07, 08 公共管理与公共服务 → 08/14,
  09 特殊用地 → 15, 10 交通运输 (but 1006 农村道路, now 0601) → 12, 1109 水工建筑 → 13.
  Not construction: 06 农业设施建设用地 (农村道路, 设施农用地 count as farm land in the 三调),
  17 陆地水域 and 23 其他土地.
* current farmland (现状耕地): `current_use` parcels of first level 01 (FARMLAND_CLASS).
* planned construction (规划建设用地): `land_use` blocks of first level 07–13
  (PLANNED_CONSTRUCTION: 居住 … 公用设施).
* the red line (`red_line`) and the permanent basic farmland (`farmland`): every feature.

The six kinds (KINDS) pair a subject selection with another: subject ∩ other, or for
`farmland_outside_protection` subject − other. A kind is computed for an audience only when it
sees both layers.

How: the other selection is unioned once and split into its polygons (so its overlapping
features count once); an STRtree over the subject's geometries pairs each polygon with the
subjects it touches; a subject the polygon covers counts whole, one across its edge is cut
(intersection, or the polygons taken away one after another) — vectorised shapely calls. The
pieces are split by county (the administrative layer with the fewest features, codes XZQDM,
names XZQMC): a piece inside one county stays whole, one across a county boundary is cut.
The pieces of one kind in one county are then merged (a coverage union, or a full union where
they overlap, so features of the subject layer that overlap count once): neighbouring parcels'
pieces become one polygon, a conflict "patch" (the `features` counted). Polygons under
SLIVER_M2 (1 m²: the noise of two layers digitised apart) are dropped. Areas are in the
catalog's working CRS (metres).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from publish.catalog import Catalog
from publish.errors import BuildError

__all__ = [
    "CURRENT_CONSTRUCTION",
    "FARMLAND_CLASS",
    "KINDS",
    "PLANNED_CONSTRUCTION",
    "SELECTIONS",
    "SLIVER_M2",
    "ConflictKind",
    "Conflicts",
    "Selection",
    "compute_conflicts",
    "conflict_inputs",
    "selected",
]

CURRENT_CONSTRUCTION = ("07", "08", "09", "10", "11", "12", "13", "14", "15")
PLANNED_CONSTRUCTION = ("07", "08", "09", "10", "11", "12", "13")
FARMLAND_CLASS = ("01",)
SLIVER_M2 = 1.0
COUNTY_CODE, COUNTY_NAME = "XZQDM", "XZQMC"
POLYGON_COLUMNS = ("kind", "name_zh", "name_en", "area_m2", "county")


@dataclass(frozen=True)
class Selection:
    """Features of the first layer of `role` an audience sees; with `classes`, only those whose
    code's first level (two characters) is one of them."""

    name: str
    role: str
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ConflictKind:
    """`subject` ∩ `other` (or `subject` − `other` when not `inside`), two selections."""

    id: str
    zh: str
    en: str
    subject: str
    other: str
    inside: bool = True


SELECTIONS: dict[str, Selection] = {
    s.name: s
    for s in (
        Selection("current_construction", "current_use", CURRENT_CONSTRUCTION),
        Selection("current_farmland", "current_use", FARMLAND_CLASS),
        Selection("planned_construction", "land_use", PLANNED_CONSTRUCTION),
        Selection("red_line", "red_line"),
        Selection("farmland", "farmland"),
    )
}

KINDS: tuple[ConflictKind, ...] = (
    ConflictKind(
        "current_construction_in_red_line",
        "现状建设用地占用生态保护红线",
        "Current construction land inside the red line",
        "current_construction",
        "red_line",
    ),
    ConflictKind(
        "current_construction_in_farmland",
        "现状建设用地占用永久基本农田",
        "Current construction land on permanent basic farmland",
        "current_construction",
        "farmland",
    ),
    ConflictKind(
        "planned_construction_in_red_line",
        "规划建设用地占用生态保护红线",
        "Planned construction land inside the red line",
        "planned_construction",
        "red_line",
    ),
    ConflictKind(
        "planned_construction_in_farmland",
        "规划建设用地占用永久基本农田",
        "Planned construction land on permanent basic farmland",
        "planned_construction",
        "farmland",
    ),
    ConflictKind(
        "farmland_outside_protection",
        "现状耕地未划入永久基本农田",
        "Current farmland outside the permanent basic farmland",
        "current_farmland",
        "farmland",
        inside=False,
    ),
    ConflictKind(
        "farmland_planned_for_construction",
        "现状耕地规划为建设用地",
        "Current farmland planned for construction",
        "current_farmland",
        "planned_construction",
    ),
)


def conflict_inputs(catalog: Catalog, visible: set[str]) -> dict[str, str]:
    """{selection name: layer id} for the selections an audience seeing `visible` can make
    (the first layer of each role it sees)."""
    out = {}
    for selection in SELECTIONS.values():
        layer = next((s.id for s in catalog.by_role(selection.role) if s.id in visible), None)
        if layer is not None:
            out[selection.name] = layer
    return out


def first_level(codes: pd.Series) -> np.ndarray:
    """The first two characters of each code as text ("" where there is none)."""
    text = codes.astype(object).where(codes.notna(), "").astype(str)
    return text.str.strip().str[:2].to_numpy(dtype=object)


def selected(
    frame: gpd.GeoDataFrame, selection: Selection, code_field: str | None, crs: str
) -> np.ndarray:
    """The selection's non-empty geometries of `frame` (in `crs`), repaired where invalid."""
    if frame.crs is None or CRS.from_user_input(frame.crs) != CRS.from_user_input(crs):
        raise BuildError(f"conflicts: {selection.name} must be in {crs}, got {frame.crs}")
    if selection.classes is not None and (not code_field or code_field not in frame.columns):
        raise BuildError(f"conflicts: {selection.name}: the layer has no code field")
    geoms = np.asarray(frame.geometry.array, dtype=object)
    wanted = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if selection.classes is not None:
        wanted &= np.isin(first_level(frame[code_field]), selection.classes)
    chosen = geoms[wanted]  # a copy: repairing it leaves the frame as it is
    broken = ~shapely.is_valid(chosen)
    chosen[broken] = shapely.make_valid(chosen[broken])
    return chosen


def _polygons(geoms: np.ndarray) -> np.ndarray:
    """The polygons of `geoms` (multi-parts and collections split, lines and points left out)."""
    parts = shapely.get_parts(shapely.get_parts(geoms))
    return parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]


def _pairs(subject: np.ndarray, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(subject index, part index, whether the part covers the subject) for every pair that
    intersects."""
    part_i, subject_i = shapely.STRtree(subject).query(parts, predicate="intersects")
    shapely.prepare(parts)
    return subject_i, part_i, shapely.covers(parts[part_i], subject[subject_i])


def _inside(subject: np.ndarray, parts: np.ndarray) -> np.ndarray:
    subject_i, part_i, whole = _pairs(subject, parts)
    cut = shapely.intersection(subject[subject_i[~whole]], parts[part_i[~whole]])
    return np.concatenate([subject[subject_i[whole]], cut])


def _outside(subject: np.ndarray, parts: np.ndarray) -> np.ndarray:
    subject_i, part_i, whole = _pairs(subject, parts)
    gone = np.zeros(len(subject), dtype=bool)
    gone[subject_i[whole]] = True
    cross = ~gone[subject_i]
    subject_i, part_i = subject_i[cross], part_i[cross]
    out = subject.copy()
    # a subject across several parts loses them one round after another
    order = np.argsort(subject_i, kind="stable")
    subject_i, part_i = subject_i[order], part_i[order]
    starts = np.r_[0, np.flatnonzero(np.diff(subject_i)) + 1]
    rank = np.arange(len(subject_i)) - np.repeat(starts, np.diff(np.r_[starts, len(subject_i)]))
    for r in range(int(rank.max()) + 1 if len(rank) else 0):
        at = rank == r
        out[subject_i[at]] = shapely.difference(out[subject_i[at]], parts[part_i[at]])
    return out[~gone]


def _conflict(subject: np.ndarray, parts: np.ndarray, inside: bool) -> np.ndarray:
    """The polygons of subject ∩ parts, or subject − parts (`parts`: the polygons of the other
    selection's union)."""
    if len(subject) == 0 or (inside and len(parts) == 0):
        return np.empty(0, dtype=object)
    if len(parts) == 0:
        return _polygons(subject)
    return _polygons(_inside(subject, parts) if inside else _outside(subject, parts))


def _by_county(
    pieces: np.ndarray, counties: list[tuple[str, str | None, shapely.Geometry]]
) -> tuple[np.ndarray, np.ndarray]:
    """(polygons, the index of the county of each) of the pieces inside the counties."""
    if not counties or len(pieces) == 0:
        return pieces, np.full(len(pieces), -1)
    shapes = np.array([geom for _, _, geom in counties], dtype=object)
    subject_i, county_i, whole = _pairs(pieces, shapes)
    cut = shapely.intersection(pieces[subject_i[~whole]], shapes[county_i[~whole]])
    geoms = np.concatenate([pieces[subject_i[whole]], cut])
    owner = np.concatenate([county_i[whole], county_i[~whole]])
    # a cut may leave several polygons (or only a line along the boundary)
    parts, index = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    return parts[polygon], owner[index][polygon]


def _union(group: np.ndarray) -> shapely.Geometry:
    """The union of polygons that tile: a coverage union, fast, unless they overlap, do not
    share their vertices or it is not valid — then a full union."""
    try:
        merged = shapely.coverage_union_all(group)
    except shapely.errors.GEOSException:  # not noded as a coverage
        return shapely.union_all(group)
    total = float(shapely.area(group).sum())
    if not shapely.is_valid(merged) or abs(shapely.area(merged) - total) > 1e-9 * total + SLIVER_M2:
        merged = shapely.union_all(group)
    return merged


def _merged(polygons: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each county's polygons merged: (polygons, county index of each)."""
    merged, index = [np.empty(0, dtype=object)], [np.empty(0, dtype=owner.dtype)]
    for county in np.unique(owner):
        parts = _polygons(np.array([_union(polygons[owner == county])], dtype=object))
        merged.append(parts)
        index.append(np.full(len(parts), county, dtype=owner.dtype))
    return np.concatenate(merged), np.concatenate(index)


@dataclass(frozen=True)
class Conflicts:
    """What the analysis found: `kinds` computed, `areas` (one row per kind × unit, the
    conflicts document's "areas") and `polygons` (in the working CRS, columns POLYGON_COLUMNS:
    kind id, its names, area in m², county code or None)."""

    kinds: tuple[ConflictKind, ...]
    areas: list[dict[str, Any]]
    polygons: gpd.GeoDataFrame


def _counties(counties: gpd.GeoDataFrame | None) -> list[tuple[str, str | None, Any]]:
    if counties is None:
        return []
    for column in (COUNTY_CODE, COUNTY_NAME):
        if column not in counties.columns:
            raise BuildError(f"conflicts: the county layer has no {column} column")
    present = ~(counties.geometry.isna() | counties.geometry.is_empty)
    frame = gpd.GeoDataFrame(
        {COUNTY_CODE: counties[COUNTY_CODE].astype(str), COUNTY_NAME: counties[COUNTY_NAME]},
        geometry=counties.geometry.make_valid(),
    )[present]
    # one polygon per code; the first name given to it
    merged = frame.dissolve(by=COUNTY_CODE, aggfunc="first", sort=True)
    return [
        (str(code), None if pd.isna(name) else str(name), geom)
        for code, name, geom in zip(
            merged.index, merged[COUNTY_NAME], merged.geometry.array, strict=True
        )
    ]


def compute_conflicts(
    kinds: Sequence[ConflictKind],
    selections: Mapping[str, np.ndarray],
    *,
    counties: gpd.GeoDataFrame | None,
    crs: str,
    city_code: str | None = None,
    city_name: str | None = None,
) -> Conflicts:
    """The conflicts of `kinds` (each needs its two selections in `selections`: geometries in
    `crs`, as `selected` gives them), by county of `counties` (None: the city only).

    Areas rows: {"kind", "scope": "city" | "county", "code", "name", "area_m2" (0.1 m²),
    "area_ha" (0.0001 ha), "features"}, per kind the city first then each county by code,
    zeros included. With counties, the city's figures are the counties' sum (nothing outside
    them counts)."""
    if counties is not None and (
        counties.crs is None or CRS.from_user_input(counties.crs) != CRS.from_user_input(crs)
    ):
        raise BuildError(f"conflicts: counties must be in {crs}, got {counties.crs}")
    units = _counties(counties) if kinds else []  # nothing to place: the counties unread
    frames = []
    areas: list[dict[str, Any]] = []
    unions: dict[str, np.ndarray] = {}
    for kind in kinds:
        missing = [s for s in (kind.subject, kind.other) if s not in selections]
        if missing:
            raise BuildError(f"conflicts: {kind.id} needs the selection {missing[0]!r}")
        if kind.other not in unions:  # each selection unioned once, whichever kinds use it
            unions[kind.other] = _polygons(
                np.array([shapely.union_all(selections[kind.other])], dtype=object)
            )
        pieces = _conflict(selections[kind.subject], unions[kind.other], kind.inside)
        polygons, owner = _merged(*_by_county(pieces, units))
        area = shapely.area(polygons)
        keep = area >= SLIVER_M2
        polygons, owner, area = polygons[keep], owner[keep], area[keep]
        county = np.array([units[i][0] if i >= 0 else None for i in owner], dtype=object)
        frames.append(
            gpd.GeoDataFrame(
                {
                    "kind": kind.id,
                    "name_zh": kind.zh,
                    "name_en": kind.en,
                    "area_m2": np.round(area, 1),
                    "county": county,
                },
                geometry=polygons,
                crs=crs,
            )
        )
        areas.append(_row(kind, "city", city_code, city_name, area, np.ones(len(area), bool)))
        for i, (code, name, _) in enumerate(units):
            areas.append(_row(kind, "county", code, name, area, owner == i))
    columns: dict[str, list[Any]] = {c: [] for c in POLYGON_COLUMNS}
    empty = gpd.GeoDataFrame(columns, geometry=[], crs=crs)
    polygons_frame = (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs) if frames else empty
    )
    return Conflicts(tuple(kinds), areas, polygons_frame)


def _row(
    kind: ConflictKind,
    scope: str,
    code: str | None,
    name: str | None,
    area: np.ndarray,
    mask: np.ndarray,
) -> dict[str, Any]:
    total = float(area[mask].sum())
    return {
        "kind": kind.id,
        "scope": scope,
        "code": code,
        "name": name,
        "area_m2": round(total, 1),
        "area_ha": round(total / 1e4, 4),
        "features": int(mask.sum()),
    }
