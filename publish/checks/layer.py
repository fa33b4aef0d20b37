"""Per-layer review checks, run batch by batch as the build streams a layer.

:class:`LayerChecker` looks at each batch once, vectorized (shapely 2 array functions, one
reprojection to the city's working CRS for the areas), repairs invalid geometries and returns the
batch to publish. Only ids, row numbers and a point per feature are kept between batches, for the
duplicate-id check that :meth:`LayerChecker.finish` runs at the end.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from publish.catalog import POLYGON_ROLES, LayerSpec
from publish.checks.findings import Finding, FindingLimiter, make_finding
from publish.checks.geometry import (
    COLLECTION,
    FAMILY_BY_NAME,
    FAMILY_NAMES,
    LONLAT_CRS,
    MISSING,
    POLYGON,
    families,
    id_text,
    keep_family,
    lonlat,
    point_xy,
    type_name,
)
from publish.errors import NoCrsError, SourceError

__all__ = ["CODE_ROLES", "LayerChecker", "source_error_finding"]

# roles whose code_field holds national land-use codes (publish.standards)
CODE_ROLES = ("land_use", "current_use")
MJ_FIELD = "MJ"


def expected_family(spec: LayerSpec) -> int | None:
    """The geometry family the catalog asks for, None when any geometry will do."""
    if spec.geometry is not None:
        return FAMILY_BY_NAME[spec.geometry]
    if spec.role in POLYGON_ROLES:
        return POLYGON
    return None


def source_error_finding(spec: LayerSpec, error: SourceError) -> Finding:
    """The finding for a layer that cannot be read (kind no_crs when it lacks a CRS)."""
    text = str(error)
    if isinstance(error, NoCrsError):
        return make_finding(
            "no_crs",
            spec.id,
            f"layer {spec.id}: {text}",
            f"图层 {spec.id}（{spec.title_zh}）：数据源没有坐标系，目录中也未声明，请在目录中设置 crs",
        )
    return make_finding(
        "source_error",
        spec.id,
        f"layer {spec.id}: {text}",
        f"图层 {spec.id}（{spec.title_zh}）：数据源无法读取：{text}",
    )


class LayerChecker:
    """Checks one layer, batch by batch; :meth:`finish` returns all its findings.

    Areas (``area_m2``, the MJ check) are measured in ``crs``, the city's working CRS (a
    projected CRS in metres). Attributes after the batches: ``features`` (count), ``area_m2``
    (total area, NaN-skipping; 0 for line and point layers) and ``bounds`` (minx, miny, maxx,
    maxy in EPSG:4326, None while no non-empty geometry was seen) and ``checked``: per rule
    kind, how many features it looked at (where it ran: unknown_code only with a code field,
    area_mismatch only on polygons with an MJ, ...), or 1 for missing_field (a layer-wide rule,
    run on the first batch's columns).
    """

    def __init__(
        self,
        spec: LayerSpec,
        *,
        crs: str,
        mj_tolerance: float = 0.001,
        limit: int = 200,
    ) -> None:
        self.spec = spec
        self.crs = crs
        self.mj_tolerance = mj_tolerance
        self.features = 0
        self.area_m2 = 0.0
        self.bounds: tuple[float, float, float, float] | None = None
        self.checked: Counter[str] = Counter()
        self._family = expected_family(spec)
        self._limiter = FindingLimiter(limit)
        self._first = True
        self._ids: list[np.ndarray] = []
        self._xy: list[np.ndarray] = []
        self._result: list[Finding] | None = None
        # the last batch's polygons in the working CRS as `_areas` projected them (None where
        # not a polygon): the build keeps them for the analysis instead of projecting again
        self.projected: np.ndarray = np.empty(0, dtype=object)

    # -- the batches -------------------------------------------------------------------------

    def check_batch(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Check a batch (EPSG:4326) and return it to publish: invalid geometries repaired,
        a float column ``area_m2`` (in the working CRS; NaN for lines and points)."""
        if self._result is not None:
            raise RuntimeError(f"layer {self.spec.id}: check_batch() after finish()")
        if self._first:
            self._first = False
            self._check_columns(frame)
        frame = self._in_lonlat(frame)
        n = len(frame)
        start = self.features
        geoms = np.asarray(frame.geometry.array, dtype=object)
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        invalid = ~empty & ~shapely.is_valid(geoms)
        present = n - int(empty.sum())
        self.checked.update(
            {"empty_geometry": n, "invalid_geometry": present, "wrong_geometry_type": present}
        )
        repaired_idx = np.flatnonzero(invalid)
        reasons: list[str] = []
        if len(repaired_idx):
            reasons = list(shapely.is_valid_reason(geoms[repaired_idx]))
            geoms = geoms.copy()
            geoms[repaired_idx] = self._repair(geoms[repaired_idx])
        family = families(geoms)
        points = shapely.point_on_surface(geoms)
        px, py = point_xy(points)
        area = self._areas(geoms, family)

        ids = self._ids_of(frame)
        ctx = _Batch(self.spec, start, ids, px, py, area)
        self._report_empty(ctx, np.flatnonzero(empty))
        self._report_repaired(ctx, repaired_idx, reasons, geoms)
        self._report_wrong_type(ctx, geoms, family, empty)
        self._report_codes(ctx, frame)
        self._report_mj(ctx, frame, geoms, family, set(repaired_idx.tolist()))

        if ids is not None:
            self.checked["duplicate_id"] += n
            self._ids.append(ids)
            self._xy.append(np.column_stack([px, py]))
        self.features += n
        if n:
            self.area_m2 += float(np.nansum(area))
            self._grow_bounds(geoms)

        out = frame.copy(deep=False)
        if len(repaired_idx):
            out[out.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
        out["area_m2"] = area
        return out

    def finish(self) -> list[Finding]:
        """All findings of the layer, the duplicate ids included (found over all batches)."""
        if self._result is None:
            self._report_duplicates()
            self._ids, self._xy = [], []
            self._result = self._limiter.findings()
        return list(self._result)

    # -- helpers -----------------------------------------------------------------------------

    def _check_columns(self, frame: gpd.GeoDataFrame) -> None:
        spec = self.spec
        self.checked["missing_field"] += 1
        wanted = list(spec.fields)
        if spec.id_field not in wanted:
            wanted.append(spec.id_field)
        for name in wanted:
            if name not in frame.columns:
                self._limiter.add(
                    make_finding(
                        "missing_field",
                        spec.id,
                        f"layer {spec.id}: the catalog field {name} is missing from the source",
                        f"图层 {spec.id}（{spec.title_zh}）：数据源缺少目录中列出的字段 {name}",
                        field=name,
                    )
                )
        if frame.crs is None:
            self._limiter.add(
                make_finding(
                    "no_crs",
                    spec.id,
                    f"layer {spec.id}: the features have no CRS (taken as EPSG:4326)",
                    f"图层 {spec.id}（{spec.title_zh}）：要素没有坐标系（按 EPSG:4326 处理）",
                )
            )

    @staticmethod
    def _in_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if frame.crs is None:
            return frame.set_crs(LONLAT_CRS)
        if CRS.from_user_input(frame.crs) != CRS.from_user_input(LONLAT_CRS):
            return frame.to_crs(LONLAT_CRS)
        return frame

    def _repair(self, geoms: np.ndarray) -> np.ndarray:
        """make_valid, keeping the parts of the layer's geometry family (or the feature's own)."""
        fixed = shapely.make_valid(geoms)
        wanted = families(geoms) if self._family is None else None
        out = np.empty(len(fixed), dtype=object)
        for i, geom in enumerate(fixed):  # invalid rows only: few
            family = self._family if wanted is None else int(wanted[i])
            out[i] = keep_family(geom, family) if family in (0, 1, 2) else geom
        return out

    def _areas(self, geoms: np.ndarray, family: np.ndarray) -> np.ndarray:
        area = np.full(len(geoms), np.nan)
        self.projected = np.full(len(geoms), None, dtype=object)
        if self._family not in (None, POLYGON):
            return area
        polygonal = family == POLYGON
        if not polygonal.any():
            return area
        subset = geoms if polygonal.all() else geoms[polygonal]
        projected = np.asarray(gpd.GeoSeries(subset, crs=LONLAT_CRS).to_crs(self.crs).array)
        self.projected[polygonal] = projected
        area[polygonal] = shapely.area(projected)
        return area

    def _ids_of(self, frame: gpd.GeoDataFrame) -> np.ndarray | None:
        if self.spec.id_field not in frame.columns:
            return None
        return frame[self.spec.id_field].to_numpy()

    def _grow_bounds(self, geoms: np.ndarray) -> None:
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
        if not np.isfinite(minx):
            return
        if self.bounds is not None:
            minx, miny = min(minx, self.bounds[0]), min(miny, self.bounds[1])
            maxx, maxy = max(maxx, self.bounds[2]), max(maxy, self.bounds[3])
        self.bounds = (minx, miny, maxx, maxy)

    def _add(self, kind: str, ctx: _Batch, i: int, english: str, chinese: str, **kw: Any) -> None:
        feature = ctx.label(i)
        spec = self.spec
        self._limiter.add(
            make_finding(
                kind,
                spec.id,
                f"layer {spec.id}, feature {feature}: {english}",
                f"图层 {spec.id}（{spec.title_zh}）要素 {feature}：{chinese}",
                feature=feature,
                lonlat=kw.pop("lonlat", ctx.lonlat(i)),
                **kw,
            )
        )

    def _wanted(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """The rows worth building findings for; the others are only counted."""
        room = self._limiter.room(self.spec.id, kind)
        if len(rows) > room:
            self._limiter.count(self.spec.id, kind, len(rows) - room)
        return rows[:room]

    def _report_empty(self, ctx: _Batch, rows: np.ndarray) -> None:
        for i in self._wanted("empty_geometry", rows):
            self._add(
                "empty_geometry",
                ctx,
                int(i),
                "the geometry is empty or missing",
                "几何为空或缺失",
                lonlat=None,
            )

    def _report_repaired(
        self, ctx: _Batch, rows: np.ndarray, reasons: list[str], geoms: np.ndarray
    ) -> None:
        family = self._family
        for i, reason in zip(rows, reasons, strict=True):
            i = int(i)
            repaired = geoms[i]
            left_empty = bool(shapely.is_empty(repaired))
            area = ctx.area[i]
            what = f"area {area:,.1f} m²" if np.isfinite(area) else type_name(repaired)
            if self._limiter.would_keep(self.spec.id, "invalid_geometry"):
                self._add(
                    "invalid_geometry",
                    ctx,
                    i,
                    f"invalid geometry ({reason}); repaired with make_valid, the repaired "
                    f"geometry ({what}) is published",
                    f"几何无效（{reason}），已用 make_valid 修复，发布修复后的几何（{what}）",
                    area_m2=_area_or_none(area),
                    value=reason,
                )
            else:
                self._limiter.count(self.spec.id, "invalid_geometry")
            if left_empty and family is not None:
                name = FAMILY_NAMES[family]
                self._add(
                    "empty_geometry",
                    ctx,
                    i,
                    f"invalid geometry ({reason}) and nothing of type {name} is left after "
                    "the repair",
                    f"几何无效（{reason}），修复后不再含有{_FAMILY_ZH[name]}",
                    lonlat=None,
                    value=reason,
                )

    def _report_wrong_type(
        self, ctx: _Batch, geoms: np.ndarray, family: np.ndarray, empty: np.ndarray
    ) -> None:
        if self._family is None:
            rows = np.flatnonzero(~empty & (family == COLLECTION))
        else:
            rows = np.flatnonzero(~empty & (family != self._family) & (family != MISSING))
        want = FAMILY_NAMES[self._family] if self._family is not None else "a single family"
        want_zh = _FAMILY_ZH.get(want, "单一类型几何")
        for i in self._wanted("wrong_geometry_type", rows):
            found = type_name(geoms[int(i)])
            self._add(
                "wrong_geometry_type",
                ctx,
                int(i),
                f"geometry type {found} in a layer of {want} features (role {self.spec.role})",
                f"几何类型为 {found}，而本图层（{self.spec.role}）应为{want_zh}",
                value=found,
            )

    def _report_codes(self, ctx: _Batch, frame: gpd.GeoDataFrame) -> None:
        spec = self.spec
        field = spec.code_field
        if spec.role not in CODE_ROLES or not field or field not in frame.columns:
            return
        from publish.standards import land_use_classes

        self.checked["unknown_code"] += len(frame)
        codes = frame[field]
        known = codes.astype(object).isin(set(land_use_classes())).to_numpy()
        for i in self._wanted("unknown_code", np.flatnonzero(~known)):
            value = codes.iloc[int(i)]
            text = None if _missing(value) else str(value)
            shown = repr(text) if text is not None else "no value"
            self._add(
                "unknown_code",
                ctx,
                int(i),
                f"{field} = {shown} is not a code of the national land-use classification",
                f"{field} = {text if text is not None else '（空）'} 不在国家用地用海分类代码中",
                field=field,
                value=text,
            )

    def _report_mj(
        self,
        ctx: _Batch,
        frame: gpd.GeoDataFrame,
        geoms: np.ndarray,
        family: np.ndarray,
        repaired: set[int],
    ) -> None:
        if MJ_FIELD not in frame.columns or self._family not in (None, POLYGON):
            return
        mj = pd.to_numeric(frame[MJ_FIELD], errors="coerce").to_numpy(dtype=float)
        area = ctx.area
        measured = (family == POLYGON) & ~shapely.is_empty(geoms)  # empty: empty_geometry
        self.checked["area_mismatch"] += int(measured.sum())
        with np.errstate(invalid="ignore"):
            bad = measured & (np.abs(mj - area) > self.mj_tolerance * area)
        for i in self._wanted("area_mismatch", np.flatnonzero(bad)):
            i = int(i)
            rel = (mj[i] - area[i]) / area[i] if area[i] > 0 else float("inf")
            note = " (of the repaired geometry)" if i in repaired else ""
            note_zh = "（修复后的几何）" if i in repaired else ""
            self._add(
                "area_mismatch",
                ctx,
                i,
                f"MJ = {mj[i]:,.2f} m² but the geometry's area{note} is {area[i]:,.2f} m² "
                f"in {self.crs} ({rel:+.2%}, tolerance {self.mj_tolerance:.2%})",
                f"MJ = {mj[i]:,.2f} m²，而几何面积{note_zh}为 {area[i]:,.2f} m²（{self.crs}），"
                f"相差 {rel:+.2%}（容差 {self.mj_tolerance:.2%}）",
                field=MJ_FIELD,
                value=f"{mj[i]:.2f}",
                area_m2=round(float(area[i]), 2),
            )

    def _report_duplicates(self) -> None:
        if not self._ids:
            return
        ids = pd.Series(np.concatenate(self._ids) if len(self._ids) > 1 else self._ids[0])
        xy = np.concatenate(self._xy)
        dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
        if not dup.any():
            return
        rows = np.flatnonzero(dup)
        spec = self.spec
        groups = pd.Series(rows).groupby(ids.iloc[rows].to_numpy(), sort=False)
        for value, members in groups:
            if not self._limiter.would_keep(spec.id, "duplicate_id"):
                self._limiter.count(spec.id, "duplicate_id")
                continue
            at = members.to_numpy()
            text = id_text(value)
            listed = ", ".join(f"#{r + 1}" for r in at[:10]) + (", ..." if len(at) > 10 else "")
            self._limiter.add(
                make_finding(
                    "duplicate_id",
                    spec.id,
                    f"layer {spec.id}, feature {text}: {spec.id_field} {text} is used by "
                    f"{len(at)} features (rows {listed})",
                    f"图层 {spec.id}（{spec.title_zh}）要素 {text}：{spec.id_field} {text} "
                    f"被 {len(at)} 个要素重复使用（第 {listed} 行）",
                    feature=text,
                    field=spec.id_field,
                    value=str(len(at)),
                    lonlat=lonlat(xy[at[0], 0], xy[at[0], 1]),
                )
            )


_FAMILY_ZH = {"polygon": "面", "line": "线", "point": "点"}


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _area_or_none(area: float) -> float | None:
    return round(float(area), 2) if np.isfinite(area) else None


class _Batch:
    """What the reporting helpers need to know about the batch being checked."""

    def __init__(
        self,
        spec: LayerSpec,
        start: int,
        ids: np.ndarray | None,
        px: np.ndarray,
        py: np.ndarray,
        area: np.ndarray,
    ) -> None:
        self.spec = spec
        self.start = start
        self.ids = ids
        self.px, self.py = px, py
        self.area = area

    def label(self, i: int) -> str:
        """The feature's id as text, or its 1-based row in the layer ("#12") without one."""
        text = id_text(self.ids[i]) if self.ids is not None else None
        return text if text is not None else f"#{self.start + i + 1}"

    def lonlat(self, i: int) -> tuple[float, float] | None:
        return lonlat(self.px[i], self.py[i])
