"""A release's GeoPackage opened for serving: read-only, one sqlite3 connection per thread.

The release's features files are written once and never changed, so a connection is opened
read-only (`mode=ro`) the first time a thread needs it and kept for the life of the object; the
layout of each table (attribute columns and their types, geometry column, R-tree) is read once.
`open_geopackage(path)` shares one `GeoPackage` per file between requests (publish.filecache).

`rows_in_box` is the one R-tree query: the OGC API's pages (publish.ogc.query), the site check's
candidates (publish.sitecheck.store) and WMS GetFeatureInfo (publish.wms.featureinfo) all read
through it. SQL is built only from the table's own names (quoted); every value is a bound
parameter.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from publish.filecache import FileCache
from publish.gpkg.counts import ValueSelection, column_counts
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.schema import open_readonly, quote, table_schema

Bbox = tuple[float, float, float, float]
Condition = tuple[str, Sequence[Any]]  # SQL on the table aliased `t`, and its parameters

# Memory-map the whole file (SQLite maps at most SQLITE_MAX_MMAP_SIZE, 2 GB by default): pages past
# the map are read with a system call each into the connection's 2 MB page cache, which made the
# R-tree joins of the 1,000,000-parcel release (408 MB) ~12 % slower with the first 256 MB mapped.
_MMAP_BYTES = 1 << 31
_COUNTS_KEPT = 512  # selections whose count a GeoPackage keeps
_COUNT_KEY_BYTES = 4096  # longer parameters (a spatial filter's id list) are not kept
_DERIVED_KEPT = 256  # values derived from the file that a GeoPackage keeps (`derived`)

T = TypeVar("T")


def json_schema_type(declared: str) -> dict[str, str] | None:
    """The JSON Schema type of a GeoPackage column type (None: not published, e.g. BLOB)."""
    t = declared.strip().upper()
    if t == "BOOLEAN":
        return {"type": "boolean"}
    if "INT" in t:
        return {"type": "integer"}
    if t in ("REAL", "FLOAT", "DOUBLE") or t.startswith(("NUMERIC", "DECIMAL")):
        return {"type": "number"}
    if t == "DATE":
        return {"type": "string", "format": "date"}
    if t == "DATETIME":
        return {"type": "string", "format": "date-time"}
    if t == "BLOB":
        return None
    return {"type": "string"}


@dataclass(frozen=True)
class Table:
    """A feature table as served: `columns` maps each published attribute to its JSON Schema."""

    name: str
    id_column: str
    geometry: str
    rtree: str | None
    columns: Mapping[str, Mapping[str, str]]


class GeoPackage:
    """A GeoPackage file open for reading from any number of threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._tables: dict[str, Table] = {}
        self._estimates: dict[str, int] = {}
        self._value_counts: dict[tuple[str, str], dict[str, int] | None] = {}
        self._counts: OrderedDict[tuple[str, tuple[Any, ...]], int] = OrderedDict()
        self._derived: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.connection()  # fail now, not on the first request

    def __repr__(self) -> str:
        return f"<GeoPackage {str(self.path)!r}>"

    def connection(self) -> sqlite3.Connection:
        """This thread's read-only connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = open_readonly(self.path)
                conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            except (GeoPackageError, sqlite3.Error) as exc:
                raise GeoPackageError(f"{self.path}: cannot be opened: {exc}") from exc
            self._local.conn = conn
        return conn

    def table(self, name: str) -> Table:
        """The layout of feature table `name` (read once); GeoPackageError if there is none."""
        table = self._tables.get(name)
        if table is None:
            table = self._read_table(name)
            with self._lock:
                self._tables[name] = table
        return table

    def _read_table(self, name: str) -> Table:
        conn = self.connection()
        try:
            schema = table_schema(conn, name)
            info = conn.execute(f"PRAGMA table_info({quote(schema.name)})").fetchall()
        except (GeoPackageError, sqlite3.Error) as exc:
            raise GeoPackageError(f"{self.path}: table {name!r}: {exc}") from exc
        if schema.data_type != "features" or schema.geometry_column is None:
            raise GeoPackageError(f"{self.path}: {name!r} is not a feature table")
        keys = [str(row[1]) for row in info if row[5]]
        if len(keys) != 1:
            raise GeoPackageError(f"{self.path}: {name!r} has no single integer primary key")
        columns: dict[str, Mapping[str, str]] = {}
        for _cid, column, declared, *_rest in info:
            if column in (keys[0], schema.geometry_column):
                continue
            kind = json_schema_type(str(declared or ""))
            if kind is not None:
                columns[str(column)] = MappingProxyType(kind)
        return Table(
            name=schema.name,
            id_column=keys[0],
            geometry=schema.geometry_column,
            rtree=schema.rtree,
            columns=MappingProxyType(columns),
        )

    def feature_tables(self) -> frozenset[str]:
        """The names of the tables `gpkg_contents` registers as feature tables."""
        rows = self.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")
        return frozenset(str(row[0]) for row in rows)

    def rows_in_box(
        self,
        name: str,
        columns: Sequence[str | None],
        box: Bbox | None,
        *,
        equals: Sequence[tuple[str, Any]] = (),
        where: Condition | None = None,
        crossing: bool = False,
        exclude: Sequence[int] = (),
        order: Sequence[tuple[str, bool]] | None = (),
        limit: int | None = None,
        offset: int = 0,
        geometry: bool = True,
        scan: bool = False,
    ) -> list[Any]:
        """Rows (id, *columns, geometry blob) of feature table `name` whose R-tree envelope
        meets the lon/lat `box` (None: every row); a None column reads NULL.

        `equals`: (column, value) pairs a row must match; `where`: an SQL condition on the
        table aliased `t` and its parameters (publish.ogc.where makes them); `crossing`: only rows whose envelope
        is not inside the box (their geometry may miss it); `exclude`: ids left out; `order`:
        (column, descending) pairs, then the id (None: no order); `limit`/`offset`: one page;
        `geometry`: False leaves the blob out; `scan`: read the table in id order using
        no attribute index (without a box: for a page of a selection that matches many rows).
        GeoPackageError when a box is given and the table has no spatial index."""
        table = self.table(name)
        picked = [f"t.{quote(c)}" if c else "NULL" for c in columns]
        select = [f"t.{quote(table.id_column)}", *picked]
        if geometry:
            select.append(f"t.{quote(table.geometry)}")
        source, params = self._where(table, box, equals, where, crossing, exclude, scan)
        sql = f"SELECT {', '.join(select)} {source}"
        if order is not None:
            keys = [f"t.{quote(c)} {'DESC' if desc else 'ASC'}" for c, desc in order]
            sql += f" ORDER BY {', '.join([*keys, f't.{quote(table.id_column)}'])}"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return self.execute(sql, params)

    def count_in_box(
        self,
        name: str,
        box: Bbox | None,
        *,
        equals: Sequence[tuple[str, Any]] = (),
        where: Condition | None = None,
        exclude: Sequence[int] = (),
    ) -> int:
        """How many rows `rows_in_box` would give for the same selection, without a page.

        The file never changes, so counts are kept (the last `_COUNTS_KEPT` selections whose
        parameters are short): a client paging through a selection counts it once."""
        source, params = self._where(self.table(name), box, equals, where, False, exclude)
        sql = f"SELECT count(*) {source}"
        key = (sql, tuple(params))
        keep = sum(len(p) if isinstance(p, str | bytes) else 8 for p in params) <= _COUNT_KEY_BYTES
        if keep:
            with self._lock:
                if (known := self._counts.get(key)) is not None:
                    self._counts.move_to_end(key)
                    return known
        count = int(self.execute(sql, params)[0][0])
        if keep:
            with self._lock:
                self._counts[key] = count
                if len(self._counts) > _COUNTS_KEPT:
                    self._counts.popitem(last=False)
        return count

    def derived(
        self, key: Hashable, make: Callable[[], T], keep: Callable[[T], bool] = lambda _: True
    ) -> T:
        """`make()`, a value computed from this file and `key` alone, kept under `key` when
        `keep(value)` (the last `_DERIVED_KEPT`): the file never changes, so a client paging
        through a selection derives it once. The value is shared by every thread: it must not
        be changed."""
        with self._lock:
            if (known := self._derived.get(key)) is not None:
                self._derived.move_to_end(key)
                return known
        value = make()  # outside the lock: it reads the file; two threads may both make it
        if not keep(value):
            return value
        with self._lock:
            self._derived[key] = value
            if len(self._derived) > _DERIVED_KEPT:
                self._derived.popitem(last=False)
        return value

    def value_count(self, name: str, selection: ValueSelection) -> int | None:
        """How many rows of feature table `name` the selection matches, from the column's value
        counts (publish.gpkg.counts: read once, kept for the life of this object); None when
        the column is not counted that way."""
        table = self.table(name)
        key = (table.name, selection.column)
        if key not in self._value_counts:
            try:
                counts = column_counts(self.connection(), *key)
            except sqlite3.Error as exc:
                raise GeoPackageError(f"{self.path}: query failed: {exc}") from exc
            with self._lock:
                self._value_counts[key] = counts
        known = self._value_counts[key]
        return None if known is None else selection.count(known)

    def row_estimate(self, name: str) -> int:
        """About how many rows feature table `name` holds (its largest id: the build numbers
        features from 1), read once."""
        table = self.table(name)
        estimate = self._estimates.get(table.name)
        if estimate is None:
            sql = f"SELECT max({quote(table.id_column)}) FROM {quote(table.name)}"
            estimate = int(self.execute(sql)[0][0] or 0)
            self._estimates[table.name] = estimate
        return estimate

    def row_by_id(self, name: str, fid: int, columns: Sequence[str]) -> Any | None:
        """The row (id, *columns, geometry blob) of feature table `name` with id `fid`, or None."""
        table = self.table(name)
        select = [table.id_column, *columns, table.geometry]
        rows = self.execute(
            f"SELECT {', '.join('t.' + quote(c) for c in select)} FROM {quote(table.name)} AS t "
            f"WHERE t.{quote(table.id_column)} = ?",
            [fid],
        )
        return rows[0] if rows else None

    def _where(
        self,
        table: Table,
        box: Bbox | None,
        equals: Sequence[tuple[str, Any]],
        where: Condition | None,
        crossing: bool,
        exclude: Sequence[int],
        scan: bool = False,
    ) -> tuple[str, list[Any]]:
        """FROM and WHERE of a selection of `table`, and its parameters."""
        t = quote(table.name)
        fid = f"t.{quote(table.id_column)}"
        clauses: list[str] = []
        params: list[Any] = []
        corners: list[float] = []  # minx, maxx, miny, maxy: the order both box tests bind
        if box is None:
            # NOT INDEXED still looks ids up by the primary key (a spatial filter's id list)
            source = f"{t} AS t NOT INDEXED" if scan else f"{t} AS t"
        else:
            if table.rtree is None:
                raise GeoPackageError(f"{self.path}: {table.name} has no spatial index")
            # The R-tree as the outer loop (CROSS JOIN fixes the order): cost follows the box.
            source = f"{quote(table.rtree)} AS r CROSS JOIN {t} AS t ON {fid} = r.id"
            corners = [box[0], box[2], box[1], box[3]]
            clauses += ["r.maxx >= ?", "r.minx <= ?", "r.maxy >= ?", "r.miny <= ?"]
            params += corners
        for column, value in equals:
            clauses.append(f"t.{quote(column)} = ?")
            params.append(value)
        if where is not None:
            clauses.append(where[0])
            params += where[1]
        if crossing:
            if not corners:
                raise GeoPackageError(f"{self.path}: {table.name}: crossing needs a box")
            clauses.append("NOT (r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?)")
            params += corners
        if exclude:
            clauses.append(f"{fid} NOT IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(exclude)))
        return f"FROM {source}" + (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[Any]:
        """All rows of a read query on this thread's connection."""
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise GeoPackageError(f"{self.path}: query failed: {exc}") from exc


_GEOPACKAGES: FileCache[GeoPackage] = FileCache(GeoPackage)  # opens nothing until asked


def open_geopackage(path: str | Path) -> GeoPackage:
    """The shared `GeoPackage` for the file at `path`; GeoPackageError if it cannot be opened."""
    try:
        return _GEOPACKAGES.get(path)
    except OSError as exc:
        raise GeoPackageError(f"{path}: cannot be opened: {exc}") from exc
