"""What a GeoPackage table is made of, as SQLite sees it, read with the standard library.

A feature table written by GDAL is more than its ``CREATE TABLE``: an R-tree virtual table
``rtree_<table>_<geometry column>`` (with its shadow tables ``_node``, ``_rowid``, ``_parent``),
triggers that keep the R-tree and GDAL's feature count in step, and rows in the GeoPackage
metadata tables (``gpkg_contents``, ``gpkg_geometry_columns``, ``gpkg_extensions``,
``gpkg_ogr_contents``, ``gpkg_data_columns``). :func:`table_schema` collects all of it from
``sqlite_master`` so the build's feature store (publish.features) can copy a table whole, page
by page, with ``INSERT ... SELECT``, and the reader (publish.gpkg.reader) can learn its layout.

The triggers call GDAL's SQL functions (``ST_MinX``, ``ST_IsEmpty``, ...), which a plain
:mod:`sqlite3` connection does not have: rows must be copied with the triggers absent and the
triggers created afterwards, and the R-tree rows copied from the source's R-tree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from publish.gpkg.errors import GeoPackageError

__all__ = [
    "GPKG_APPLICATION_ID",
    "META_TABLES",
    "RTREE_EXTENSION",
    "RTREE_SHADOWS",
    "TableSchema",
    "connect_for_bulk",
    "gpkg_has_rtree",
    "indexed_geometry_count",
    "open_readonly",
    "quote",
    "row_count",
    "rtree_name",
    "table_schema",
]

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
RTREE_EXTENSION = "gpkg_rtree_index"
# Metadata tables whose rows belong to one table (column table_name), in the order to fill them.
META_TABLES = (
    "gpkg_contents",
    "gpkg_geometry_columns",
    "gpkg_extensions",
    "gpkg_ogr_contents",
    "gpkg_data_columns",
)
# The tables an R-tree virtual table keeps its tree in: rtree_<t>_<c> + suffix.
RTREE_SHADOWS = ("_node", "_rowid", "_parent")
# For files renamed into place only when complete: a crash leaves a temporary to delete,
# never a damaged result, so a journal and an fsync per commit buy nothing.
_BULK_PRAGMAS = (
    "PRAGMA synchronous = OFF",
    "PRAGMA journal_mode = OFF",
    "PRAGMA cache_size = -262144",
)


def quote(name: str) -> str:
    """An SQL identifier in double quotes (safe for any table or column name)."""
    return '"' + name.replace('"', '""') + '"'


def attribute_index_name(table: str, column: str) -> str:
    """The name of the index the build makes on an attribute column (publish.features.store)."""
    return f"idx_{table}_{column}"


def create_attribute_indexes(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> None:
    """An index on each of `columns` of `table`: what filters on them search rather than scan
    the table (the assembled store then gets the statistics the planner chooses by: ANALYZE)."""
    for column in columns:
        index = quote(attribute_index_name(table, column))
        conn.execute(f"CREATE INDEX {index} ON {quote(table)} ({quote(column)})")


def indexed_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(column, declared type) of each column of `table` that an index of its own covers: the
    attribute indexes a copy of the table elsewhere (PostGIS) should have too."""
    out: list[tuple[str, str]] = []
    types = {
        str(row[1]): str(row[2] or "") for row in conn.execute(f"PRAGMA table_info({quote(table)})")
    }
    for row in conn.execute(f"PRAGMA index_list({quote(table)})"):
        if row[3] != "c":  # made by CREATE INDEX, not a key's or a constraint's own
            continue
        columns = [str(col[2]) for col in conn.execute(f"PRAGMA index_info({quote(row[1])})")]
        if len(columns) == 1 and columns[0] in types:
            out.append((columns[0], types[columns[0]]))
    return out


def rtree_name(table: str, column: str) -> str:
    """The R-tree virtual table of a geometry column, as the GeoPackage standard names it."""
    return f"rtree_{table}_{column}"


@dataclass(frozen=True)
class TableSchema:
    """Everything ``sqlite_master`` holds for one GeoPackage table, as SQL to replay.

    ``triggers`` are (name, sql) pairs; ``rtree``/``rtree_sql`` are None for a table without a
    spatial index (an attributes table, or a feature table written without one).
    """

    name: str
    sql: str
    columns: tuple[str, ...]
    indexes: tuple[str, ...]
    triggers: tuple[tuple[str, str], ...]
    data_type: str
    srs_id: int | None
    geometry_column: str | None
    rtree: str | None
    rtree_sql: str | None


def _exists(conn: sqlite3.Connection, schema: str, name: str, kind: str = "table") -> bool:
    row = conn.execute(
        f"SELECT 1 FROM {quote(schema)}.sqlite_master WHERE type = ? AND lower(name) = lower(?)",
        (kind, name),
    ).fetchone()
    return row is not None


def table_schema(conn: sqlite3.Connection, table: str, schema: str = "main") -> TableSchema:
    """Read a table's DDL, triggers, geometry column and R-tree from ``schema`` (main or attached).

    Raises GeoPackageError when the table is not registered in the GeoPackage's ``gpkg_contents``.
    """
    s = quote(schema)
    try:
        row = conn.execute(
            f"SELECT table_name, data_type, srs_id FROM {s}.gpkg_contents "
            "WHERE lower(table_name) = lower(?)",
            (table,),
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise GeoPackageError(f"{table!r}: not a GeoPackage ({exc})") from exc
    if row is None:
        raise GeoPackageError(f"{table!r}: no such table in the GeoPackage's gpkg_contents")
    name, data_type, srs_id = str(row[0]), str(row[1]), row[2]
    master = conn.execute(
        f"SELECT type, name, sql FROM {s}.sqlite_master "
        "WHERE lower(tbl_name) = lower(?) AND sql IS NOT NULL ORDER BY rowid",
        (name,),
    ).fetchall()
    create = [sql for kind, _, sql in master if kind == "table"]
    if not create:
        raise GeoPackageError(f"{name!r}: registered in gpkg_contents but the table does not exist")
    columns = tuple(
        str(info[1]) for info in conn.execute(f"PRAGMA {s}.table_info({quote(name)})").fetchall()
    )
    geometry_column: str | None = None
    if _exists(conn, schema, "gpkg_geometry_columns"):
        geo = conn.execute(
            f"SELECT column_name FROM {s}.gpkg_geometry_columns WHERE lower(table_name) = lower(?)",
            (name,),
        ).fetchone()
        geometry_column = str(geo[0]) if geo else None
    rtree: str | None = None
    rtree_sql: str | None = None
    if geometry_column is not None and _exists(conn, schema, "gpkg_extensions"):
        registered = conn.execute(
            f"SELECT 1 FROM {s}.gpkg_extensions WHERE lower(table_name) = lower(?) "
            "AND lower(column_name) = lower(?) AND extension_name = ?",
            (name, geometry_column, RTREE_EXTENSION),
        ).fetchone()
        candidate = rtree_name(name, geometry_column)
        sql_row = conn.execute(
            f"SELECT sql FROM {s}.sqlite_master WHERE type = 'table' AND lower(name) = lower(?)",
            (candidate,),
        ).fetchone()
        if registered and sql_row:
            rtree, rtree_sql = candidate, str(sql_row[0])
    return TableSchema(
        name=name,
        sql=str(create[0]),
        columns=columns,
        indexes=tuple(str(sql) for kind, _, sql in master if kind == "index"),
        triggers=tuple((str(n), str(sql)) for kind, n, sql in master if kind == "trigger"),
        data_type=data_type,
        srs_id=None if srs_id is None else int(srs_id),
        geometry_column=geometry_column,
        rtree=rtree,
        rtree_sql=rtree_sql,
    )


def row_count(conn: sqlite3.Connection, table: str, schema: str = "main") -> int:
    row = conn.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}").fetchone()
    return int(row[0])


def indexed_geometry_count(
    conn: sqlite3.Connection, table: str, column: str, schema: str = "main"
) -> int:
    """Rows whose geometry the R-tree must hold: not NULL and not empty.

    A GeoPackage geometry blob starts "GP", version, flags; flag bit 0x10 marks an empty
    geometry. It is read from the hex of the 4th byte (high nibble odd = bit set), in SQL, so
    counting a million rows does not pull their geometries into Python.
    """
    g = quote(column)
    row = conn.execute(
        f"SELECT count(*) FROM {quote(schema)}.{quote(table)} WHERE {g} IS NOT NULL "
        f"AND substr(hex(substr({g}, 4, 1)), 1, 1) NOT IN ('1','3','5','7','9','B','D','F')"
    ).fetchone()
    return int(row[0])


def connect_for_bulk(path: Path) -> sqlite3.Connection:
    """A connection for writing a temporary file fast: explicit BEGIN/COMMIT, no journal,
    no fsync, a 256 MB page cache."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in _BULK_PRAGMAS:
        conn.execute(pragma)
    return conn


def open_readonly(path: Path) -> sqlite3.Connection:
    """An sqlite3 connection that cannot change the file (and does not create it)."""
    if not Path(path).is_file():
        raise GeoPackageError(f"{path}: no such GeoPackage")
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def gpkg_has_rtree(path: Path, table: str) -> bool:
    """True when ``table`` has a usable R-tree: registered as the gpkg_rtree_index extension,
    present with its shadow tables and insert trigger, and holding exactly one entry per row
    with a non-empty geometry (so an index left empty or half-filled is caught)."""
    conn = open_readonly(path)
    try:
        try:
            schema = table_schema(conn, table)
        except GeoPackageError:
            return False
        if schema.rtree is None or schema.geometry_column is None:
            return False
        if not all(_exists(conn, "main", schema.rtree + suffix) for suffix in RTREE_SHADOWS):
            return False
        trigger_names = {name.lower() for name, _ in schema.triggers}
        if f"{schema.rtree}_insert".lower() not in trigger_names:
            return False
        expected = indexed_geometry_count(conn, schema.name, schema.geometry_column)
        return row_count(conn, schema.rtree) == expected
    finally:
        conn.close()
