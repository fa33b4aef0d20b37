"""Feature queries of the OGC API on a GeoPackage table: bbox through the R-tree, exact in shapely.

Column names a client sends are checked against the table's layout here (QueryError, a 400);
the rows come from the GeoPackage's one R-tree query (`GeoPackage.rows_in_box`), where every value
is a bound parameter. A bbox selects candidates from the R-tree; those whose envelope lies inside
the box intersect it for certain, the others (envelopes crossing the box's edge) are tested
exactly in shapely, and the ones that miss are excluded by id, so `matched` counts and pages agree
with an exact intersects test.

An attribute selection (filter, q, equality) without a bbox is counted first — from the column's
value counts when it is a code `=`, `IN` or `LIKE 'prefix%'` (publish.gpkg.counts: read once per
process from the column's index), else through the attribute indexes the build makes (the
catalog's code, name and `indexed_fields`) — and its page then read by whichever plan reads fewer
rows: the matches through the index, sorted by id, or the table in id order until the page is
full. A selection whose count a spatial predicate bounds (`at_most`: its id list, ANDed with the
rest) has its first page read first, through the index: a page that is not full is the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from publish.gpkg.counts import ValueSelection
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.geometry import from_blobs
from publish.gpkg.reader import Bbox, Condition, GeoPackage, Table


class QueryError(GeoPackageError):
    """A query that names a column the table does not publish, or asks something impossible."""


@dataclass(frozen=True)
class FeatureQuery:
    """What to select. `equals` are (column, value) pairs; `sortby` (column, descending)."""

    bbox: Bbox | None = None
    equals: Sequence[tuple[str, Any]] = ()
    where: Condition | None = None  # an SQL condition (publish.ogc.where: filter and q)
    sortby: Sequence[tuple[str, bool]] = ()
    offset: int = 0
    limit: int = 10
    columns: Sequence[str] | None = None  # None: every published column
    geometry: bool = True
    count: bool = True  # compute `matched`
    # `where` as a ValueSelection, when it is one (publish.ogc.where): counted from the
    # column's value counts
    selection: ValueSelection | None = None
    # how many rows `where` selects, when known beforehand (a filter that is one spatial
    # predicate: the length of its id list, publish.ogc.where.filter_selection)
    matched: int | None = None
    # at most how many rows `where` selects, when known beforehand (a spatial predicate ANDed
    # with other conditions: the length of its id list)
    at_most: int | None = None


@dataclass
class FeaturePage:
    """One page of a query: ids, attribute rows (in `columns` order) and geometries."""

    columns: list[str]
    ids: list[int] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    geometries: np.ndarray | None = None
    matched: int | None = None


def _checked(table: Table, names: Sequence[str]) -> None:
    for name in names:
        if name not in table.columns:
            raise QueryError(f"{table.name} has no published column {name!r}")


def _selected(table: Table, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(table.columns)
    _checked(table, columns)
    return list(dict.fromkeys(columns))


def _misses(gpkg: GeoPackage, table: Table, query: FeatureQuery, bbox: Bbox) -> list[int]:
    """Ids of the candidates whose envelope crosses the box's edge but whose geometry misses it."""
    rows = gpkg.rows_in_box(
        table.name, [], bbox, equals=query.equals, where=query.where, crossing=True, order=None
    )
    if not rows:
        return []
    box = shapely.box(*bbox)
    shapely.prepare(box)
    hits = shapely.intersects(box, from_blobs([row[1] for row in rows]))
    return [int(row[0]) for row, hit in zip(rows, hits, strict=True) if not hit]


def _given_count(query: FeatureQuery) -> int | None:
    """How many rows the query matches as given with its `where` (nothing else selecting)."""
    alone = query.where is not None and query.bbox is None and not query.equals
    return query.matched if alone else None


def _selection(table: Table, query: FeatureQuery) -> ValueSelection | None:
    """The query's selection as a ValueSelection: its filter's, or one text property equality."""
    if query.where is not None:
        return None if query.equals else query.selection
    if len(query.equals) == 1:
        name, value = query.equals[0]
        if isinstance(value, str) and table.columns[name].get("type") == "string":
            return ValueSelection(name, (value,))
    return None


def _page_first(gpkg: GeoPackage, table: Table, query: FeatureQuery) -> bool:
    """The first page of an attribute selection can be read before it is counted: its count is
    bounded (`at_most`) so that the page is read through the index whatever the count (see
    `run_query`), and a page that is not full gives the count (most spatial selections ANDed
    with a code are: a count then cost as much as the page)."""
    if query.at_most is None or query.offset != 0 or query.limit <= 0:
        return False
    return query.limit * gpkg.row_estimate(table.name) >= query.at_most * query.at_most


def run_query(gpkg: GeoPackage, table: Table, query: FeatureQuery) -> FeaturePage:
    """One page of features of `table` matching `query`, and how many match in all."""
    if query.offset < 0 or query.limit < 0:
        raise QueryError("offset and limit must not be negative")
    columns = _selected(table, query.columns)
    _checked(table, [name for name, _ in query.equals])
    _checked(table, [name for name, _ in query.sortby])
    if query.bbox is not None and table.rtree is None:
        raise QueryError(f"{table.name} has no spatial index")
    misses = [] if query.bbox is None else _misses(gpkg, table, query, query.bbox)
    page = FeaturePage(columns=columns)
    scan = False
    if query.count and query.bbox is None and not query.sortby and (query.equals or query.where):
        # An attribute selection: count first (its indexes make that cheap), then read the page
        # by whichever reads fewer rows — the matches through the index, sorted by id, or the
        # table in id order until the page is full (≈ (offset + limit) × rows / matched).
        selection = _selection(table, query)
        known = _given_count(query)
        if known is None and selection is not None:
            known = gpkg.value_count(table.name, selection)
        if known is not None or not _page_first(gpkg, table, query):
            page.matched = (
                known
                if known is not None
                else gpkg.count_in_box(table.name, None, equals=query.equals, where=query.where)
            )
            wanted = query.offset + query.limit
            scan = wanted * gpkg.row_estimate(table.name) < page.matched * page.matched
            if page.matched <= query.offset:
                return page
    if query.limit > 0:
        rows = gpkg.rows_in_box(
            table.name,
            columns,
            query.bbox,
            equals=query.equals,
            where=query.where,
            exclude=misses,
            order=query.sortby,
            limit=query.limit,
            offset=query.offset,
            geometry=query.geometry,
            scan=scan,
        )
        page.ids = [int(row[0]) for row in rows]
        width = 1 + len(columns)
        page.rows = [tuple(row[1:width]) for row in rows]
        if query.geometry:
            page.geometries = from_blobs([row[width] for row in rows])
        if (rows and len(rows) < query.limit) or (not rows and query.offset == 0):
            page.matched = query.offset + len(rows)  # the last page: no need to count
    if query.count and page.matched is None:
        known = _given_count(query)
        page.matched = (
            known
            if known is not None
            else gpkg.count_in_box(
                table.name, query.bbox, equals=query.equals, where=query.where, exclude=misses
            )
        )
    return page


def get_feature(
    gpkg: GeoPackage, table: Table, fid: int, columns: Sequence[str] | None = None
) -> FeaturePage:
    """The feature with id `fid`: a page of one, or of none."""
    selected = _selected(table, columns)
    row = gpkg.row_by_id(table.name, fid, selected)
    page = FeaturePage(columns=selected, matched=0 if row is None else 1)
    if row is not None:
        page.ids = [fid]
        page.rows = [tuple(row[1:-1])]
        page.geometries = from_blobs([row[-1]])
    return page
