"""An indicator model evaluated on a release's layers, per scope unit.

How the figures are measured (in the catalog's working CRS, metres):

* A selection (a layer's features matching a formula's `where`) is made into disjoint pieces
  ONCE per build: its geometries (repaired with make_valid where invalid) as they are when the
  layer is a valid coverage (no overlaps: the survey's parcels; tested once per layer of 2,000
  features or more), else the parts of their union, so features overlapping inside a layer
  count once.
* Its area in a unit: each unit of a scope is cut by a 4 km grid into small cells; a piece
  within a cell counts whole for the cell's unit, a piece crossing cells is clipped to each
  (STRtree queries, vectorised shapely: a piece is never clipped against a whole county). The
  city's area is its counties' sum (the city is their union).
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

__all__ = ["COVERAGE_TEST_FROM", "Evaluator", "Result", "evaluate", "is_coverage"]

# Below this many geometries a union is cheap: no coverage test.
COVERAGE_TEST_FROM = 2_000
# The grid (metres) units are cut by before pieces crossing their edges are clipped.
_CELL = 4_000.0


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


def is_coverage(frame: gpd.GeoDataFrame) -> bool:
    """Whether a layer's polygons overlap nowhere (GEOS's coverage test): then its features are
    disjoint pieces as they are. Large layers only (a union of a few thousand features is
    quicker than the test): False below COVERAGE_TEST_FROM features."""
    if len(frame) < COVERAGE_TEST_FROM:
        return False
    geoms = _polygonal(_repaired(np.asarray(frame.geometry.array, dtype=object)))
    return bool(shapely.coverage_is_valid(geoms))


class Evaluator:
    """Evaluates formulas on a build's layers; each selection's pieces and each (selection, unit)
    figure are computed once and shared by every indicator and audience."""

    def __init__(
        self,
        catalog: Catalog,
        frame: Callable[[str], gpd.GeoDataFrame],
        model: Model,
        coverage: Callable[[str], bool | None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.frame = frame  # a layer id → its frame in catalog.crs
        self.model = model
        # a layer id → `is_coverage` of it when already tested (the build tests a large layer
        # in the background as soon as it is read), None when not
        self._features: dict[Selection, np.ndarray] = {}
        self._pieces: dict[tuple[Selection, ...], np.ndarray] = {}
        self._figures: dict[tuple[object, ...], np.ndarray] = {}
        self._coverage: dict[str, bool] = {}
        self._texts: dict[tuple[str, str | None], pd.Series] = {}
        self._known_coverage = coverage
        self._grids: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray, shapely.STRtree]] = {}

    # -- selections ------------------------------------------------------------------------

    def features(self, selection: Selection) -> np.ndarray:
        """The selected features' geometries, repaired."""
        if selection not in self._features:
            frame = self.frame(selection.layer)
            keep = np.ones(len(frame), dtype=bool)
            spec = self.catalog.layer(selection.layer)
            for where in selection.where:
                column = spec.code_field if where.field is None else where.field
                text = self._text(selection.layer, frame, column)
                prefix = text.str.startswith(where.values)
                hit = prefix if where.prefix else text.isin(where.values)
                keep &= hit.fillna(False).to_numpy(dtype=bool)
            geoms = np.asarray(frame.geometry.array, dtype=object)[keep]
            self._features[selection] = _repaired(geoms)
        return self._features[selection]

    def _text(self, layer: str, frame: gpd.GeoDataFrame, column: str | None) -> pd.Series:
        """A column of a layer as stripped text, made once (several selections filter on the
        same code column of a million parcels)."""
        key = (layer, column)
        if key not in self._texts:
            self._texts[key] = frame[column].astype("string").str.strip()
        return self._texts[key]

    def is_coverage(self, layer: str) -> bool:
        """`is_coverage` of the layer, tested once (or as the build already tested it)."""
        if layer not in self._coverage:
            known = self._known_coverage(layer) if self._known_coverage else None
            self._coverage[layer] = is_coverage(self.frame(layer)) if known is None else known
        return self._coverage[layer]

    def pieces(self, *selections: Selection) -> np.ndarray:
        """Disjoint polygons covering the first selection (inside the others, for overlap())."""
        if selections not in self._pieces:
            if len(selections) == 1:
                pieces = _polygonal(self.features(selections[0]))
                if not self.is_coverage(selections[0].layer):
                    pieces = _polygonal(shapely.get_parts(shapely.union_all(pieces)))
            else:
                inner, outer = self.pieces(selections[0]), self.pieces(*selections[1:])
                pairs = shapely.STRtree(outer).query(inner, predicate="intersects")
                cut = shapely.intersection(inner[pairs[0]], outer[pairs[1]])
                pieces = _polygonal(cut)
            self._pieces[selections] = pieces[shapely.area(pieces) > 0]
        return self._pieces[selections]

    # -- figures per unit --------------------------------------------------------------------

    def _cells(self, units: Sequence[ScopeUnit]) -> tuple[np.ndarray, np.ndarray, shapely.STRtree]:
        """The units cut by a square grid into small polygons (a piece crossing a unit's edge is
        clipped to a few small cells, not to the whole unit), each cell's unit index, and their
        tree."""
        key = tuple(u.key for u in units)
        if key not in self._grids:
            cells, owners = [], []
            for index, unit in enumerate(units):
                minx, miny, maxx, maxy = unit.geometry.bounds
                xs, ys = np.meshgrid(np.arange(minx, maxx, _CELL), np.arange(miny, maxy, _CELL))
                boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + _CELL, ys.ravel() + _CELL)
                shapely.prepare(unit.geometry)
                inside = shapely.contains(unit.geometry, boxes)
                cut = _polygonal(shapely.intersection(boxes[~inside], unit.geometry))
                mine = np.concatenate([boxes[inside], cut[shapely.area(cut) > 0]])
                cells.append(mine)
                owners.append(np.full(len(mine), index))
            every = np.concatenate(cells) if cells else np.empty(0, dtype=object)
            owner = np.concatenate(owners) if owners else np.empty(0, dtype=int)
            self._grids[key] = (every, owner, shapely.STRtree(every))
        return self._grids[key]

    def _clipped(self, pieces: np.ndarray, units: Sequence[ScopeUnit]) -> np.ndarray:
        """Area (m²) of `pieces` inside each of `units` (disjoint units: one scope): a piece
        inside a cell, or across cells but inside one unit, counts whole for that unit; only
        the pieces across a unit's edge are clipped, to the cells they meet. (The cells and
        units are the prepared side of each test: a few hundred preparations, not one per
        piece.)"""
        cells, owner, tree = self._cells(units)
        areas = shapely.area(pieces)
        pieces_tree = shapely.STRtree(pieces)
        cell_i, piece_i = pieces_tree.query(cells, predicate="contains")
        # float zeros: bincount of nothing gives integers
        sums = np.zeros(len(units))
        sums += np.bincount(owner[cell_i], weights=areas[piece_i], minlength=len(units))
        rest = np.ones(len(pieces), dtype=bool)
        rest[piece_i] = False
        left = np.flatnonzero(rest)
        shapes = np.array([u.geometry for u in units], dtype=object)
        unit_i, left_i = shapely.STRtree(pieces[left]).query(shapes, predicate="contains")
        sums += np.bincount(unit_i, weights=areas[left[left_i]], minlength=len(units))
        rest[left[left_i]] = False
        crossing = pieces[rest]
        meets = tree.query(crossing, predicate="intersects")
        clipped = shapely.area(shapely.intersection(crossing[meets[0]], cells[meets[1]]))
        return sums + np.bincount(owner[meets[1]], weights=clipped, minlength=len(units))

    def _areas(self, selections: tuple[Selection, ...], units: Sequence[ScopeUnit]) -> np.ndarray:
        """Area (m²) of the pieces inside each unit; the city's is its counties' sum (the city is
        their union) when they are among the units."""
        key = ("area", selections, tuple(u.key for u in units))
        if key not in self._figures:
            pieces = self.pieces(*selections)
            sums = np.zeros(len(units))
            scopes = np.array([u.scope for u in units])
            has_counties = bool((scopes == "county").any())
            for scope in dict.fromkeys(scopes.tolist()):
                if scope == "city" and has_counties:
                    continue
                chosen = np.flatnonzero(scopes == scope)
                sums[chosen] = self._clipped(pieces, [units[int(i)] for i in chosen])
            if has_counties:
                sums[scopes == "city"] = sums[scopes == "county"].sum()
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
