"""Feature queries on a GeoPackage table: bbox through the R-tree, exact in shapely.

SQL is built only from column names checked against the table's layout (and quoted); every value
a client sends is a bound parameter. A bbox selects candidates from the R-tree; those whose
envelope lies inside the box intersect it for certain, the others (envelopes crossing the box's
edge) are tested exactly in shapely, and the ones that miss are excluded by id (one JSON array
parameter), so `matched` counts and pages agree with an exact intersects test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from publish.gpkg.errors import GeoPackageError
from publish.gpkg.geometry import from_blobs
from publish.gpkg.reader import GeoPackage, Table
from publish.gpkg.schema import quote

Bbox = tuple[float, float, float, float]


class QueryError(GeoPackageError):
    """A query that names a column the table does not publish, or asks something impossible."""


@dataclass(frozen=True)
class FeatureQuery:
    """What to select. `equals` are (column, value) pairs; `sortby` (column, descending)."""

    bbox: Bbox | None = None
    equals: Sequence[tuple[str, Any]] = ()
    sortby: Sequence[tuple[str, bool]] = ()
    offset: int = 0
    limit: int = 10
    columns: Sequence[str] | None = None  # None: every published column
    geometry: bool = True
    count: bool = True  # compute `matched`


@dataclass
class FeaturePage:
    """One page of a query: ids, attribute rows (in `columns` order) and geometries."""

    columns: list[str]
    ids: list[int] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    geometries: np.ndarray | None = None
    matched: int | None = None


def _column(table: Table, name: str) -> str:
    if name not in table.columns:
        raise QueryError(f"{table.name} has no published column {name!r}")
    return "t." + quote(name)


def _selected(table: Table, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(table.columns)
    for name in columns:
        _column(table, name)
    return list(dict.fromkeys(columns))


class _Where:
    """FROM and WHERE of a query, with its parameters."""

    def __init__(self, table: Table, query: FeatureQuery) -> None:
        t = quote(table.name)
        self.clauses: list[str] = []
        self.params: list[Any] = []
        if query.bbox is None:
            self.source = f"{t} AS t"
        else:
            if table.rtree is None:
                raise QueryError(f"{table.name} has no spatial index")
            minx, miny, maxx, maxy = query.bbox
            # The R-tree as the outer loop (CROSS JOIN fixes the order): cost follows the box.
            self.source = (
                f"{quote(table.rtree)} AS r CROSS JOIN {t} AS t "
                f"ON t.{quote(table.id_column)} = r.id"
            )
            self.clauses += ["r.maxx >= ?", "r.minx <= ?", "r.maxy >= ?", "r.miny <= ?"]
            self.params += [minx, maxx, miny, maxy]
        for name, value in query.equals:
            self.clauses.append(f"{_column(table, name)} = ?")
            self.params.append(value)

    def sql(self, extra: Sequence[str] = ()) -> str:
        clauses = [*self.clauses, *extra]
        return f"FROM {self.source}" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")


def _misses(gpkg: GeoPackage, table: Table, where: _Where, bbox: Bbox) -> list[int]:
    """Ids of the candidates whose envelope crosses the box's edge but whose geometry misses it."""
    minx, miny, maxx, maxy = bbox
    fid = "t." + quote(table.id_column)
    rows = gpkg.execute(
        f"SELECT {fid}, t.{quote(table.geometry)} "
        + where.sql(["NOT (r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?)"]),
        [*where.params, minx, maxx, miny, maxy],
    )
    if not rows:
        return []
    box = shapely.box(minx, miny, maxx, maxy)
    shapely.prepare(box)
    hits = shapely.intersects(box, from_blobs([row[1] for row in rows]))
    return [int(row[0]) for row, hit in zip(rows, hits, strict=True) if not hit]


def run_query(gpkg: GeoPackage, table: Table, query: FeatureQuery) -> FeaturePage:
    """One page of features of `table` matching `query`, and how many match in all."""
    if query.offset < 0 or query.limit < 0:
        raise QueryError("offset and limit must not be negative")
    columns = _selected(table, query.columns)
    order = [f"{_column(table, name)} {'DESC' if desc else 'ASC'}" for name, desc in query.sortby]
    where = _Where(table, query)
    extra: list[str] = []
    fid = "t." + quote(table.id_column)
    if query.bbox is not None:
        misses = _misses(gpkg, table, where, query.bbox)
        if misses:
            extra.append(f"{fid} NOT IN (SELECT value FROM json_each(?))")
            where.params.append(json.dumps(misses))
    page = FeaturePage(columns=columns)
    if query.limit > 0:
        select = [fid, *("t." + quote(c) for c in columns)]
        if query.geometry:
            select.append("t." + quote(table.geometry))
        rows = gpkg.execute(
            f"SELECT {', '.join(select)} {where.sql(extra)} "
            f"ORDER BY {', '.join([*order, fid])} LIMIT ? OFFSET ?",
            [*where.params, query.limit, query.offset],
        )
        page.ids = [int(row[0]) for row in rows]
        width = 1 + len(columns)
        page.rows = [tuple(row[1:width]) for row in rows]
        if query.geometry:
            page.geometries = from_blobs([row[width] for row in rows])
        if (rows and len(rows) < query.limit) or (not rows and query.offset == 0):
            page.matched = query.offset + len(rows)  # the last page: no need to count
    if query.count and page.matched is None:
        page.matched = int(gpkg.execute(f"SELECT count(*) {where.sql(extra)}", where.params)[0][0])
    return page


def get_feature(
    gpkg: GeoPackage, table: Table, fid: int, columns: Sequence[str] | None = None
) -> FeaturePage:
    """The feature with id `fid`: a page of one, or of none."""
    selected = _selected(table, columns)
    select = [*("t." + quote(c) for c in selected), "t." + quote(table.geometry)]
    rows = gpkg.execute(
        f"SELECT {', '.join(select)} FROM {quote(table.name)} AS t "
        f"WHERE t.{quote(table.id_column)} = ?",
        [fid],
    )
    page = FeaturePage(columns=selected, matched=len(rows))
    if rows:
        page.ids = [fid]
        page.rows = [tuple(rows[0][:-1])]
        page.geometries = from_blobs([rows[0][-1]])
    return page
