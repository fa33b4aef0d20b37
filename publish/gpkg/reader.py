"""A release's GeoPackage opened for serving: read-only, one sqlite3 connection per thread.

The release's features files are written once and never changed, so a connection is opened
read-only (`mode=ro`) the first time a thread needs it and kept for the life of the object; the
layout of each table (attribute columns and their types, geometry column, R-tree) is read once.
`open_geopackage(path)` shares one `GeoPackage` per file between requests (see `SharedFiles`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from publish.gpkg.errors import GeoPackageError
from publish.gpkg.schema import open_readonly, quote, table_schema
from publish.ogc.shared import SharedFiles

_MMAP_BYTES = 256 * 1024 * 1024


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

    def rows_in_box(
        self,
        name: str,
        columns: Sequence[str | None],
        box: tuple[float, float, float, float] | None,
    ) -> list[Any]:
        """Rows (id, *columns, geometry blob) of feature table `name` whose R-tree envelope
        meets the lon/lat `box` (all rows, in id order, for None); a None column reads NULL.
        GeoPackageError when the table has no spatial index."""
        table = self.table(name)
        if table.rtree is None:
            raise GeoPackageError(f"{self.path}: {name} has no spatial index")
        picked = ", ".join("t." + quote(c) if c else "NULL" for c in columns)
        select = f"t.{quote(table.id_column)}, {picked + ', ' if picked else ''}t.{quote(table.geometry)}"
        if box is None:
            return self.execute(f"SELECT {select} FROM {quote(table.name)} AS t ORDER BY 1")
        minx, miny, maxx, maxy = box
        return self.execute(
            f"SELECT {select} FROM {quote(table.rtree)} AS r CROSS JOIN {quote(table.name)} AS t "
            f"ON t.{quote(table.id_column)} = r.id "
            "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? ORDER BY 1",
            [minx, maxx, miny, maxy],
        )

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[Any]:
        """All rows of a read query on this thread's connection."""
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise GeoPackageError(f"{self.path}: query failed: {exc}") from exc


_GEOPACKAGES: SharedFiles[GeoPackage] | None = None
_REGISTRY_LOCK = threading.Lock()


def open_geopackage(path: str | Path) -> GeoPackage:
    """The shared `GeoPackage` for the file at `path`; GeoPackageError if it cannot be opened."""
    global _GEOPACKAGES
    with _REGISTRY_LOCK:
        if _GEOPACKAGES is None:
            _GEOPACKAGES = SharedFiles(GeoPackage)
        registry = _GEOPACKAGES
    try:
        return registry.get(path)
    except OSError as exc:
        raise GeoPackageError(f"{path}: cannot be opened: {exc}") from exc
