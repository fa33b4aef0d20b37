"""Several single-table GeoPackages copied into one, at page speed, and checked.

The build calls :func:`assemble` once per audience (``public.gpkg`` with the public layers,
``internal.gpkg`` with all of them) on the tables :class:`~publish.features.store.
LayerTableWriter` wrote.

How a table is copied, with :mod:`sqlite3` and each source ``ATTACH``-ed in turn:

1. the GeoPackage's own tables (``gpkg_*``: DDL, indexes, triggers), the ``application_id``,
   ``user_version`` and page size, from the first source; the SRS rows from every source
   (one id must mean one definition);
2. the table's ``CREATE TABLE`` from the source's ``sqlite_master``, then
   ``INSERT INTO t SELECT * FROM src.t`` (identical schemas and no triggers yet, so SQLite's
   transfer optimisation copies b-tree pages; FIDs are the primary key and stay);
3. the R-tree: ``CREATE VIRTUAL TABLE`` from the source's DDL, then its shadow tables
   (``_node``, ``_rowid``, ``_parent``) copied the same way. Re-inserting a million entries
   through the R-tree module takes ~30 s; copying its nodes takes well under one;
4. the table's rows in ``gpkg_contents``, ``gpkg_geometry_columns``, ``gpkg_extensions``,
   ``gpkg_ogr_contents``, ``gpkg_data_columns`` and its ``sqlite_sequence`` value;
5. last, its triggers (GDAL's triggers call GDAL's SQL functions, which a plain sqlite3
   connection lacks: they must not fire during the copy). Attribute indexes are created before
   the rows, so that the transfer copies their entries as well instead of sorting again;
6. once every table is in, ``ANALYZE``: the statistics SQLite's planner reads to choose
   between an attribute index and a scan (publish.ogc.query).

The connection that created the R-tree is closed before anything reads it, so no R-tree
state cached by SQLite outlives the copy of its nodes. The result is written to
``<dest>.tmp``, checked by :func:`verify_gpkg` and only then renamed to ``dest``.
Tile tables and ``gpkg_metadata`` rows are not copied (the store writes none).
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyogrio
import pyogrio.errors

from publish.errors import BuildError
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.schema import (
    META_TABLES,
    RTREE_SHADOWS,
    TableSchema,
    connect_for_bulk,
    indexed_geometry_count,
    quote,
    row_count,
    table_schema,
)

__all__ = ["assemble", "read_schema", "verify_gpkg"]


def read_schema(conn: sqlite3.Connection, table: str, schema: str = "main") -> TableSchema:
    """:func:`~publish.gpkg.schema.table_schema` for the build: the GeoPackageError the
    GeoPackage wing raises goes on as the BuildError the build promises, with the same message."""
    try:
        return table_schema(conn, table, schema)
    except GeoPackageError as exc:
        raise BuildError(str(exc)) from exc


def assemble(dest: Path, tables: Sequence[tuple[str, Path]]) -> None:
    """Copy each ``(table, single-table GeoPackage)`` into one GeoPackage at ``dest``.

    Rows, FIDs, the R-tree, triggers and the table's GeoPackage metadata rows are kept; an
    existing ``dest`` is replaced only once the new file has passed :func:`verify_gpkg`.
    Raises BuildError for a missing source or table, a table given twice, two sources that
    define one SRS id differently, or a result that fails a check.
    """
    dest = Path(dest)
    if not tables:
        raise BuildError(f"{dest}: no tables to assemble")
    seen: set[str] = set()
    for table, source in tables:
        if table.lower() in seen:
            raise BuildError(f"{dest}: table {table!r} is given twice")
        seen.add(table.lower())
        if not Path(source).is_file():
            raise BuildError(f"{dest}: table {table!r}: source {source} does not exist")
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    expected: dict[str, int] = {}
    try:
        conn = connect_for_bulk(tmp)
        try:
            for index, (table, source) in enumerate(tables):
                uri = f"{Path(source).resolve().as_uri()}?mode=ro"
                conn.execute("ATTACH DATABASE ? AS src", (uri,))
                try:
                    if index == 0:
                        _create_base(conn)
                    _copy_srs(conn, dest)
                    expected[table] = _copy_table(conn, table, dest, Path(source))
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute("DETACH DATABASE src")
            conn.execute("ANALYZE")
        finally:
            conn.close()
        verify_gpkg(tmp, expected)
        os.replace(tmp, dest)
    except sqlite3.DatabaseError as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"{dest}: assembling failed ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _has_table(conn: sqlite3.Connection, schema: str, name: str) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM {quote(schema)}.sqlite_master WHERE type = 'table' "
        "AND lower(name) = lower(?)",
        (name,),
    ).fetchone()
    return row is not None


def _create_base(conn: sqlite3.Connection) -> None:
    """The GeoPackage's own tables, indexes and triggers (from the first source), empty."""
    page_size = int(conn.execute("PRAGMA src.page_size").fetchone()[0])
    conn.execute(f"PRAGMA main.page_size = {page_size}")  # before the first table exists
    for pragma in ("application_id", "user_version"):
        value = int(conn.execute(f"PRAGMA src.{pragma}").fetchone()[0])
        conn.execute(f"PRAGMA main.{pragma} = {value}")
    rows = conn.execute(
        "SELECT type, sql FROM src.sqlite_master WHERE sql IS NOT NULL "
        "AND lower(tbl_name) LIKE 'gpkg\\_%' ESCAPE '\\' ORDER BY rowid"
    ).fetchall()
    conn.execute("BEGIN")
    for wanted in ("table", "index", "trigger"):
        for kind, sql in rows:
            if kind == wanted:
                conn.execute(sql)
    if _has_table(conn, "src", "gpkg_extensions"):  # extensions of the whole file
        _insert_rows(conn, "gpkg_extensions", "table_name IS NULL")
    conn.execute("COMMIT")


def _insert_rows(
    conn: sqlite3.Connection, table: str, where: str, params: Sequence[Any] = ()
) -> None:
    """Copy rows of a metadata table from src to main (columns both have), skipping copies."""
    if not _has_table(conn, "main", table):
        sql = conn.execute(
            "SELECT sql FROM src.sqlite_master WHERE type = 'table' AND lower(name) = lower(?)",
            (table,),
        ).fetchone()[0]
        conn.execute(sql)
    main_cols = [row[1] for row in conn.execute(f"PRAGMA main.table_info({quote(table)})")]
    src_cols = {row[1].lower() for row in conn.execute(f"PRAGMA src.table_info({quote(table)})")}
    cols = ", ".join(quote(c) for c in main_cols if c.lower() in src_cols)
    conn.execute(
        f"INSERT INTO main.{quote(table)} ({cols}) SELECT {cols} FROM src.{quote(table)} "
        f"WHERE {where} EXCEPT SELECT {cols} FROM main.{quote(table)}",
        tuple(params),
    )


def _copy_srs(conn: sqlite3.Connection, dest: Path) -> None:
    """Add the source's spatial reference systems; the same id must mean the same definition."""
    clash = conn.execute(
        "SELECT s.srs_id FROM src.gpkg_spatial_ref_sys s JOIN main.gpkg_spatial_ref_sys m "
        "ON m.srs_id = s.srs_id WHERE trim(m.definition) != trim(s.definition)"
    ).fetchone()
    if clash is not None:
        raise BuildError(f"{dest}: sources define SRS id {clash[0]} differently")
    conn.execute("BEGIN")
    _insert_rows(
        conn, "gpkg_spatial_ref_sys", "srs_id NOT IN (SELECT srs_id FROM main.gpkg_spatial_ref_sys)"
    )
    conn.execute("COMMIT")


def _copy_table(conn: sqlite3.Connection, table: str, dest: Path, source: Path) -> int:
    """Replay one table's DDL in main, copy rows, R-tree nodes, metadata; return its rows."""
    try:
        schema = read_schema(conn, table, "src")
    except BuildError as exc:
        raise BuildError(f"{dest}: source {source}: {exc}") from exc
    if _has_table(conn, "main", schema.name):
        raise BuildError(f"{dest}: table {schema.name!r} is already in the GeoPackage")
    name = quote(schema.name)
    conn.execute("BEGIN")
    conn.execute(schema.sql)
    for sql in schema.indexes:  # before the rows: the transfer copies the index's entries too
        conn.execute(sql)
    conn.execute(f"INSERT INTO main.{name} SELECT * FROM src.{name}")
    if schema.rtree is not None and schema.rtree_sql is not None:
        conn.execute(schema.rtree_sql)
        for suffix in RTREE_SHADOWS:
            shadow = quote(schema.rtree + suffix)
            conn.execute(f"DELETE FROM main.{shadow}")  # the empty root CREATE made
            conn.execute(f"INSERT INTO main.{shadow} SELECT * FROM src.{shadow}")
    seq = None
    if _has_table(conn, "src", "sqlite_sequence"):
        seq = conn.execute(
            "SELECT max(seq) FROM src.sqlite_sequence WHERE lower(name) = lower(?)",
            (schema.name,),
        ).fetchone()[0]
    if seq is not None:
        updated = conn.execute(
            "UPDATE main.sqlite_sequence SET seq = max(seq, ?) WHERE lower(name) = lower(?)",
            (seq, schema.name),
        ).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO main.sqlite_sequence (name, seq) VALUES (?, ?)", (schema.name, seq)
            )
    for meta in META_TABLES:
        if _has_table(conn, "src", meta):
            _insert_rows(conn, meta, "lower(table_name) = lower(?)", (schema.name,))
    for _, sql in schema.triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    return row_count(conn, schema.name, "src")


def verify_gpkg(path: Path, expected: Mapping[str, int]) -> None:
    """Check a GeoPackage holds ``expected`` tables and rows; raise BuildError naming the
    first problem.

    SQLite: ``PRAGMA integrity_check`` is ok; each table has its expected rows; each R-tree
    passes ``rtreecheck`` and holds one entry per non-empty geometry. GDAL (pyogrio): the
    file opens and reports each layer with its expected feature count.
    """
    path = Path(path)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        if result != ["ok"]:
            raise BuildError(f"{path}: integrity_check failed: {'; '.join(result[:5])}")
        for table, count in expected.items():
            schema = read_schema(conn, table)
            rows = row_count(conn, schema.name)
            if rows != count:
                raise BuildError(f"{path}: table {table!r} has {rows} rows, expected {count}")
            if schema.rtree is None or schema.geometry_column is None:
                continue
            check = conn.execute("SELECT rtreecheck(?)", (schema.rtree,)).fetchone()[0]
            if check != "ok":
                raise BuildError(f"{path}: the R-tree of {table!r} is damaged: {check}")
            entries = row_count(conn, schema.rtree)
            indexed = indexed_geometry_count(conn, schema.name, schema.geometry_column)
            if entries != indexed:
                raise BuildError(
                    f"{path}: the R-tree of {table!r} holds {entries} entries "
                    f"for {indexed} non-empty geometries"
                )
    except sqlite3.DatabaseError as exc:
        raise BuildError(f"{path}: not a readable GeoPackage ({exc})") from exc
    finally:
        conn.close()
    with warnings.catch_warnings():
        # GDAL warns that <dest>.tmp lacks the .gpkg extension; the file is renamed after this.
        warnings.filterwarnings("ignore", message=".*extension.*", category=RuntimeWarning)
        try:
            layers = {str(name) for name in pyogrio.list_layers(path)[:, 0]}
            for table, count in expected.items():
                if table not in layers:
                    raise BuildError(f"{path}: GDAL does not see layer {table!r}")
                info = pyogrio.read_info(path, layer=table, force_feature_count=True)
                if int(info["features"]) != count:
                    raise BuildError(
                        f"{path}: GDAL counts {info['features']} features in {table!r}, "
                        f"expected {count}"
                    )
        except pyogrio.errors.DataSourceError as exc:
            raise BuildError(f"{path}: GDAL cannot open the GeoPackage ({exc})") from exc
