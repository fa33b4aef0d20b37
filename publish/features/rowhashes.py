"""Row hashes: one 64-bit hash per feature of a layer's table, written beside the feature store
so that comparing two releases (publish.history) reads two small arrays instead of both tables.

A row-hash file (``<layer>.npz``, numpy's format) holds, in feature id order:

* ``fid``: the feature ids (int64);
* ``id``: the layer's id field (BSM) as int64;
* ``hash``: a BLAKE2b-64 hash of the row: the geometry blob, then every other column (its
  values' ``repr``, in table order), so equal hashes mean equal rows;
* ``columns``: the table's column names in that order (the hash means nothing across layouts),
  and ``id_column``: the id field's name.

It is written only when every feature has an integer id (the national standard's BSM): ids
that are text, missing or fractional leave the comparison to read the tables, as before. The
build writes it once per layer table (cached with the layer) and copies it into each release's
``features/rows/`` folder; it is part of the release, so the manifest's sha256 covers it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from publish.gpkg.schema import open_readonly, quote, table_schema

__all__ = ["ROWS_FOLDER", "RowHashes", "read_row_hashes", "row_hashes_path", "write_row_hashes"]

ROWS_FOLDER = "rows"  # beside a release's feature GeoPackages: features/rows/<layer>.npz
_BATCH = 50_000


@dataclass(frozen=True)
class RowHashes:
    fid: np.ndarray  # int64
    id: np.ndarray  # int64
    hash: np.ndarray  # uint64
    columns: tuple[str, ...]
    id_column: str


def row_hashes_path(gpkg: Path, table: str) -> Path:
    """Where the row hashes of `table` in the feature store `gpkg` are (or would be)."""
    return Path(gpkg).parent / ROWS_FOLDER / f"{table}.npz"


def _hashes(conn: sqlite3.Connection, table: str, id_field: str) -> RowHashes | None:
    layout = table_schema(conn, table)
    info = conn.execute(f"PRAGMA table_info({quote(layout.name)})").fetchall()
    keys = [str(row[1]) for row in info if row[5]]
    names = {str(row[1]).lower(): str(row[1]) for row in info}
    id_column = names.get(id_field.lower())
    if layout.geometry_column is None or len(keys) != 1 or id_column is None:
        return None
    others = [str(row[1]) for row in info if str(row[1]) not in (keys[0], layout.geometry_column)]
    select = ", ".join(quote(c) for c in (keys[0], id_column, layout.geometry_column, *others))
    cursor = conn.execute(f"SELECT {select} FROM {quote(layout.name)} ORDER BY {quote(keys[0])}")
    fids: list[int] = []
    ids: list[int] = []
    hashes: list[int] = []
    blake2b = hashlib.blake2b
    while rows := cursor.fetchmany(_BATCH):
        for row in rows:
            if type(row[1]) is not int:
                return None
            digest = blake2b(row[2] or b"", digest_size=8)
            digest.update(repr(row[3:]).encode())
            fids.append(row[0])
            ids.append(row[1])
            hashes.append(int.from_bytes(digest.digest(), "little"))
    return RowHashes(
        fid=np.asarray(fids, dtype=np.int64),
        id=np.asarray(ids, dtype=np.int64),
        hash=np.asarray(hashes, dtype=np.uint64),
        columns=(layout.geometry_column, *others),
        id_column=id_column,
    )


def write_row_hashes(gpkg: Path, table: str, id_field: str, out: Path) -> bool:
    """Hash every row of `table` in `gpkg` into `out` (written beside it, then renamed);
    False when some feature has no integer id (then `out` is removed: it never holds another
    table's hashes)."""
    conn = open_readonly(Path(gpkg))
    try:
        hashes = _hashes(conn, table, id_field)
    finally:
        conn.close()
    if hashes is None:
        out.unlink(missing_ok=True)
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez(
        tmp,
        fid=hashes.fid,
        id=hashes.id,
        hash=hashes.hash,
        columns=np.asarray(hashes.columns, dtype=str),
        id_column=np.asarray(hashes.id_column, dtype=str),
    )
    os.replace(tmp, out)
    return True


def read_row_hashes(path: Path) -> RowHashes | None:
    """The row hashes at `path`; None when there are none or the file is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            hashes = RowHashes(
                fid=data["fid"].astype(np.int64, copy=False),
                id=data["id"].astype(np.int64, copy=False),
                hash=data["hash"].astype(np.uint64, copy=False),
                columns=tuple(str(c) for c in data["columns"]),
                id_column=str(data["id_column"]),
            )
    except (OSError, ValueError, KeyError):
        return None
    if not (len(hashes.fid) == len(hashes.id) == len(hashes.hash)):
        return None
    return hashes
