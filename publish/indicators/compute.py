"""An indicator model evaluated on a release's layers, per scope unit.

How the figures are measured (in the catalog's working CRS, metres):

* A selection (a layer's features matching a formula's `where`) is made into disjoint pieces
  ONCE per build: its geometries (repaired with make_valid where invalid) as they are when they
  form a valid coverage (no overlaps: the survey's parcels), else the parts of their union, so
  features overlapping inside a layer count once.
* Its area in a unit: the pieces the unit contains, whole, plus the pieces crossing its edge
  clipped to it (one STRtree query for every unit, vectorised shapely).
* overlap(a, b): the pieces of a intersected with the pieces of b (both disjoint, so the
  intersections are too), measured like an area.
* count(): the selected features whose point on surface lies in the unit (so counties sum to
  the city).
* value(name): the values CSV's figure for the unit's scope and code and the model's year.
* share and ratio: numerator / denominator; None when the denominator is 0 or either is None.

The raw result is converted to the indicator's unit (km² = m² / 1e6, 公顷 = m² / 1e4,
% = share × 100, m²/人 and count as they are) and rounded to 4 decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from publish.catalog import Catalog
from publish.indicators.formulas import Area, Count, Formula, Overlap, Quotient, Selection, Value
from publish.indicators.model import Indicator, Model
from publish.indicators.scopes import ScopeUnit

__all__ = ["Evaluator", "Result", "evaluate"]

# Below this many geometries a union is cheap: no coverage test.
_COVERAGE_TEST_FROM = 2_000


@dataclass(frozen=True)
class Result:
    """One indicator's value in one scope unit."""

    indicator: Indicator
    unit: ScopeUnit
    value: float | None  # in the indicator's unit, rounded to 4 decimals


def _repaired(geoms: np.ndarray) -> np.ndarray:
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygon parts of `geoms` (a make_valid may leave lines or points beside them)."""
    parts = shapely.get_parts(geoms)
    return parts[np.isin(shapely.get_type_id(parts), (3, 6))]


def _disjoint(geoms: np.ndarray) -> np.ndarray:
    """Pieces with the union's area and no overlaps between them."""
    geoms = _polygonal(geoms)
    if len(geoms) >= _COVERAGE_TEST_FROM and bool(shapely.coverage_is_valid(geoms)):
        return geoms
    return _polygonal(shapely.get_parts(shapely.union_all(geoms)))


class Evaluator:
    """Evaluates formulas on a build's layers; each selection's pieces and each (selection, unit)
    figure are computed once and shared by every indicator and audience."""

    def __init__(
        self, catalog: Catalog, frame: Callable[[str], gpd.GeoDataFrame], model: Model
    ) -> None:
        self.catalog = catalog
        self.frame = frame  # a layer id → its frame in catalog.crs
        self.model = model
        self._features: dict[Selection, np.ndarray] = {}
        self._pieces: dict[tuple[Selection, ...], np.ndarray] = {}
        self._figures: dict[tuple[object, ...], np.ndarray] = {}

    # -- selections ------------------------------------------------------------------------

    def features(self, selection: Selection) -> np.ndarray:
        """The selected features' geometries, repaired."""
        if selection not in self._features:
            frame = self.frame(selection.layer)
            keep = np.ones(len(frame), dtype=bool)
            spec = self.catalog.layer(selection.layer)
            for where in selection.where:
                column = spec.code_field if where.field is None else where.field
                text = frame[column].astype(object).where(frame[column].notna(), None)
                values = pd.Series([None if v is None else str(v).strip() for v in text])
                if where.prefix:
                    hit = values.map(lambda v, w=where.values: v is not None and v.startswith(w))
                else:
                    hit = values.isin(where.values)
                keep &= hit.to_numpy(dtype=bool)
            geoms = np.asarray(frame.geometry.array, dtype=object)[keep]
            self._features[selection] = _repaired(geoms)
        return self._features[selection]

    def pieces(self, *selections: Selection) -> np.ndarray:
        """Disjoint polygons covering the first selection (inside the others, for overlap())."""
        if selections not in self._pieces:
            if len(selections) == 1:
                pieces = _disjoint(self.features(selections[0]))
            else:
                inner, outer = self.pieces(selections[0]), self.pieces(*selections[1:])
                pairs = shapely.STRtree(outer).query(inner, predicate="intersects")
                cut = shapely.intersection(inner[pairs[0]], outer[pairs[1]])
                pieces = _polygonal(cut)
            self._pieces[selections] = pieces[shapely.area(pieces) > 0]
        return self._pieces[selections]

    # -- figures per unit --------------------------------------------------------------------

    def _areas(self, selections: tuple[Selection, ...], units: Sequence[ScopeUnit]) -> np.ndarray:
        """Area (m²) of the pieces inside each unit."""
        key = ("area", selections, tuple(u.key for u in units))
        if key not in self._figures:
            pieces = self.pieces(*selections)
            geoms = np.array([u.geometry for u in units], dtype=object)
            tree = shapely.STRtree(pieces)
            meets = tree.query(geoms, predicate="intersects")
            inside = tree.query(geoms, predicate="contains")
            n = max(len(pieces), 1)
            whole = inside[0].astype(np.int64) * n + inside[1]
            crossing = ~np.isin(meets[0].astype(np.int64) * n + meets[1], whole)
            sums = np.bincount(
                inside[0], weights=shapely.area(pieces[inside[1]]), minlength=len(units)
            )
            if crossing.any():
                unit_of, piece_of = meets[0][crossing], meets[1][crossing]
                for geom in geoms:
                    shapely.prepare(geom)
                clipped = shapely.area(shapely.intersection(pieces[piece_of], geoms[unit_of]))
                sums += np.bincount(unit_of, weights=clipped, minlength=len(units))
            self._figures[key] = sums
        return self._figures[key]

    def _counts(self, selection: Selection, units: Sequence[ScopeUnit]) -> np.ndarray:
        key = ("count", selection, tuple(u.key for u in units))
        if key not in self._figures:
            points = shapely.point_on_surface(self.features(selection))
            geoms = np.array([u.geometry for u in units], dtype=object)
            hits = shapely.STRtree(points).query(geoms, predicate="contains")
            self._figures[key] = np.bincount(hits[0], minlength=len(units)).astype(float)
        return self._figures[key]

    def raw(self, formula: Formula, units: Sequence[ScopeUnit]) -> list[float | None]:
        """The formula's raw result (m², a count, a quotient, a figure) in each unit."""
        if isinstance(formula, Area):
            return [float(v) for v in self._areas((formula.selection,), units)]
        if isinstance(formula, Overlap):
            return [float(v) for v in self._areas((formula.inner, formula.outer), units)]
        if isinstance(formula, Count):
            return [float(v) for v in self._counts(formula.selection, units)]
        if isinstance(formula, Value):
            year = self.model.year
            return [self.model.values.get(formula.name, u.scope, u.code, year) for u in units]
        if isinstance(formula, Quotient):
            tops = self.raw(formula.numerator, units)
            bottoms = self.raw(formula.denominator, units)
            return [
                None if top is None or not bottom else top / bottom
                for top, bottom in zip(tops, bottoms, strict=True)
            ]
        raise TypeError(f"not a formula: {formula!r}")  # pragma: no cover - parse_formula's types

    def results(self, indicator: Indicator, units: Sequence[ScopeUnit]) -> list[Result]:
        """The indicator in each of `units` whose scope it is computed for."""
        chosen = [u for u in units if u.scope in indicator.scopes]
        raw = self.raw(indicator.formula, chosen) if chosen else []
        return [
            Result(indicator, unit, None if v is None else round(v * indicator.factor, 4))
            for unit, v in zip(chosen, raw, strict=True)
        ]


def evaluate(
    evaluator: Evaluator, indicators: Sequence[Indicator], units: Sequence[ScopeUnit]
) -> list[Result]:
    """Every indicator (model order) in every unit (city, counties, townships) it is for."""
    return [r for indicator in indicators for r in evaluator.results(indicator, units)]
