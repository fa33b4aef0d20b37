"""One layer's features matched between two releases by the catalog's id field (BSM).

Both releases' feature GeoPackages are attached read-only to SQLite connections
(:func:`open_pair`); :func:`match_layer` then compares a layer's two tables:

1. the id and feature id of every row, both sides, into numpy: rows whose id is missing (NULL
   or blank) or repeated on either side are set aside and reported (:class:`IdProblems`), never
   matched by a guess; the other ids are matched with a pandas hash index (ints stay ints; when
   one side holds text ids, both sides are compared as text);
2. the matched pairs are compared inside SQLite, so the rows that did not change never become
   Python objects. The pairs are cut into *runs*: stretches of old feature ids whose partner is
   at a constant offset (a revised source keeps its order, so a handful of runs covers a million
   pairs), handed to SQLite as one JSON array and walked as rowid ranges on both tables. Each
   row pair is compared with ``IS NOT`` column by column (geometry blobs byte for byte): only
   differing pairs come back, with both sides' values and geometry blobs. The two sides' ids,
   and two halves of the runs, are read on two threads, each with its own connection;
3. the rows of added and removed features are read by feature id.

When both releases hold the layer's row hashes (publish.features.rowhashes: one 64-bit hash per
row, written by the build), step 1 reads the ids from them instead of the tables and, when both
tables have the same columns, step 2 compares only the pairs whose hashes differ: a million
unchanged rows are then never read at all.

Nothing here looks inside a geometry: :mod:`publish.history.diff` decides whether a differing
blob is a real change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from publish.errors import ReleaseError
from publish.features.rowhashes import RowHashes, read_row_hashes, row_hashes_path
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.schema import quote, table_schema

__all__ = ["EXAMPLES", "IdProblems", "LayerMatch", "Pair", "Side", "match_layer", "open_pair"]

OLD, NEW = "old", "new"  # the schema names the two GeoPackages are attached as
EXAMPLES = 5  # how many missing or repeated ids a problem report names
_MMAP_BYTES = 256 * 1024 * 1024
WORKERS = 2  # threads reading the two sides (or two halves of the pairs) at once
T = TypeVar("T")
R = TypeVar("R")


class Pair:
    """The two releases' feature GeoPackages, read-only: ``main`` is one connection with both
    attached (as ``old`` and ``new``; either may be absent), ``connect()`` makes another, one
    per worker thread (SQLite runs a query without Python's lock, so two threads read both
    tables at once)."""

    def __init__(self, old: Path | None, new: Path | None) -> None:
        for path in (old, new):
            if path is not None and not Path(path).is_file():
                raise ReleaseError(f"{path}: no such feature GeoPackage")
        self.paths = {OLD: old, NEW: new}
        self.main = self.connect()

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", uri=True)
        for name, path in self.paths.items():
            if path is not None:
                uri = f"{Path(path).resolve().as_uri()}?mode=ro"
                conn.execute(f"ATTACH DATABASE ? AS {name}", (uri,))
                conn.execute(f"PRAGMA {name}.mmap_size = {_MMAP_BYTES}")
        return conn

    def run(self, task: Callable[[sqlite3.Connection, T], R], items: Sequence[T]) -> list[R]:
        """`task(connection, item)` for each item, on up to WORKERS threads with a connection
        each; the results in the items' order."""
        if len(items) <= 1:
            return [task(self.main, item) for item in items]

        def work(item: T) -> R:
            conn = self.connect()
            try:
                return task(conn, item)
            finally:
                conn.close()

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return list(pool.map(work, items))

    def close(self) -> None:
        self.main.close()


@contextmanager
def open_pair(old: Path | None, new: Path | None) -> Iterator[Pair]:
    """The two GeoPackages opened read-only (either may be None: a release without it)."""
    pair = Pair(old, new)
    try:
        yield pair
    finally:
        pair.close()


@dataclass(frozen=True)
class Side:
    """A layer's table on one side: the file, the table, the columns to read (None: absent)."""

    schema: str  # OLD or NEW
    path: Path
    table: str
    fid: str
    geometry: str
    id_column: str | None  # None: the table has no such column (every id is missing)
    fields: tuple[str, ...]  # the compared fields present in the table
    code: str | None  # the code field, when the layer has one and the table holds it

    @property
    def ref(self) -> str:
        return f"{self.schema}.{quote(self.table)}"


def describe_side(
    conn: sqlite3.Connection,
    schema: str,
    path: Path,
    table: str,
    id_field: str,
    fields: Sequence[str],
    code_field: str | None,
) -> Side:
    """The layout of one side's table; ReleaseError naming the file if it is not a feature table."""
    try:
        layout = table_schema(conn, table, schema)
        info = conn.execute(f"PRAGMA {schema}.table_info({quote(layout.name)})").fetchall()
    except (GeoPackageError, sqlite3.Error) as exc:
        raise ReleaseError(f"{path}: layer {table!r}: {exc}") from exc
    keys = [str(row[1]) for row in info if row[5]]
    if layout.geometry_column is None or len(keys) != 1:
        raise ReleaseError(f"{path}: {table!r} is not a feature table with one integer key")
    columns = {str(row[1]).lower(): str(row[1]) for row in info}
    own = [columns[f.lower()] for f in fields if f.lower() in columns and f != id_field]
    return Side(
        schema=schema,
        path=path,
        table=layout.name,
        fid=keys[0],
        geometry=layout.geometry_column,
        id_column=columns.get(id_field.lower()),
        fields=tuple(own),
        code=columns.get(code_field.lower()) if code_field else None,
    )


@dataclass(frozen=True)
class IdProblems:
    """Features of one side that cannot be matched: no id, or an id that several features carry.

    ``missing_fids``: the first few feature ids (row numbers) without an id; ``duplicated_ids``:
    the first few repeated ids (each once), in table order."""

    missing: int = 0
    missing_fids: tuple[int, ...] = ()
    duplicated: int = 0  # features whose id some other feature of the same side carries
    duplicated_ids: tuple[Any, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.duplicated)


@dataclass(frozen=True)
class Rows:
    """Rows read from one side: feature ids, ids, code values, geometry blobs (aligned)."""

    fids: np.ndarray
    ids: np.ndarray  # object
    codes: np.ndarray  # object (None where the layer has no code field)
    blobs: list[bytes | None]


@dataclass(frozen=True)
class Differing:
    """Matched pairs whose rows differ: both sides' feature ids and ids, whether the geometry
    blob differs, and per compared field a flag array and both values (aligned arrays)."""

    old_fids: np.ndarray
    new_fids: np.ndarray
    ids: np.ndarray  # object: the new side's id value
    geometry: np.ndarray  # bool: the blobs differ
    old_blobs: list[bytes | None]
    new_blobs: list[bytes | None]
    changed: dict[str, np.ndarray]  # field -> bool: the values differ
    old_values: dict[str, np.ndarray]  # field -> object
    new_values: dict[str, np.ndarray]


@dataclass(frozen=True)
class LayerMatch:
    """What :func:`match_layer` found: the added rows (new side), the removed rows (old side),
    the matched pairs that differ, how many pairs matched, and each side's id problems."""

    added: Rows
    removed: Rows
    differing: Differing
    matched: int
    old_problems: IdProblems
    new_problems: IdProblems


# -- ids ---------------------------------------------------------------------------------------


def _read_ids(conn: sqlite3.Connection, side: Side | None) -> tuple[np.ndarray, np.ndarray]:
    """Every row's feature id and id, in feature id order: int64 arrays when every id is an
    integer and the feature ids run 1..N without a gap (what the build writes: read as one
    string, not a million Python objects), else the ids as an object array."""
    if side is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    fid = quote(side.fid)
    if side.id_column:
        idcol = quote(side.id_column)
        count, low, high, other, text = conn.execute(
            f"SELECT count(*), min({fid}), max({fid}), sum(typeof({idcol}) != 'integer'), "
            f"group_concat({idcol}) FROM (SELECT {fid}, {idcol} FROM {side.ref} ORDER BY {fid})"
        ).fetchone()
        if count and not other and high - low + 1 == count:
            ids = np.fromstring(text, dtype=np.int64, sep=",")  # parsed in C
            if len(ids) == count:
                return np.arange(low, high + 1, dtype=np.int64), ids
    idcol = quote(side.id_column) if side.id_column else "NULL"
    rows = conn.execute(f"SELECT {fid}, {idcol} FROM {side.ref} ORDER BY {fid}").fetchall()
    fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    ids = np.empty(len(rows), dtype=object)
    ids[:] = [r[1] for r in rows]
    return fids, ids


def _normalise(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids as match keys, missing mask): integral floats become ints, text is stripped, and
    NULL, NaN and blank text are missing. Ids that are all integers come back as int64."""
    if ids.dtype.kind == "i":
        return ids, np.zeros(len(ids), dtype=bool)
    kinds = {type(v) for v in ids}
    out = ids
    if float in kinds:
        out = np.array(
            [int(v) if isinstance(v, float) and v.is_integer() else v for v in out], dtype=object
        )
    if str in kinds:
        out = np.array([v.strip() if isinstance(v, str) else v for v in out], dtype=object)
    missing = np.asarray(pd.isna(out), dtype=bool)  # None and NaN
    if str in kinds:
        missing |= np.asarray(out == "", dtype=bool)
    if all(type(v) is int for v in out[~missing]):  # ints (and missing ones): int64 keys
        return np.where(missing, 0, out).astype(np.int64), missing
    return out, missing


def _unique(index: pd.Index, missing: np.ndarray) -> bool:
    """Every id present and carried by one row only."""
    return not missing.any() and bool(index.is_unique)


def _duplicated(ids: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Rows whose (present) id another present row carries too."""
    dup = np.zeros(len(ids), dtype=bool)
    dup[~missing] = pd.Index(ids[~missing]).duplicated(keep=False)
    return dup


def _as_text(ids: np.ndarray) -> np.ndarray:
    return np.array([None if v is None else str(v) for v in ids], dtype=object)


def _problems(
    ids: np.ndarray, fids: np.ndarray, missing: np.ndarray, dup: np.ndarray
) -> IdProblems:
    repeated = pd.unique(ids[dup])[:EXAMPLES] if dup.any() else []
    return IdProblems(
        missing=int(missing.sum()),
        missing_fids=tuple(int(f) for f in fids[missing][:EXAMPLES]),
        duplicated=int(dup.sum()),
        duplicated_ids=tuple(v.item() if isinstance(v, np.generic) else v for v in repeated),
    )


# -- runs --------------------------------------------------------------------------------------


def _runs(
    old_fids: np.ndarray, new_fids: np.ndarray, *, contiguous: bool = False
) -> list[list[int]]:
    """[first old fid, last old fid, offset to the new fid] for each stretch of pairs (sorted by
    old fid) whose new fid is the old one plus a constant offset (and, with `contiguous`, whose
    old fids follow each other: a run then holds only the given pairs)."""
    if not len(old_fids):
        return []
    offset = new_fids - old_fids
    cut = np.diff(offset) != 0
    if contiguous:
        cut |= np.diff(old_fids) != 1
    breaks = np.flatnonzero(cut) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks - 1, [len(old_fids) - 1]])
    return np.column_stack([old_fids[starts], old_fids[ends], offset[starts]]).tolist()


def _split(runs: list[list[int]], parts: int) -> list[list[list[int]]]:
    """The runs cut into `parts` consecutive groups covering about as many old fids each."""
    total = sum(last - first + 1 for first, last, _ in runs)
    size = -(-total // parts)
    groups: list[list[list[int]]] = [[]]
    room = size
    for first, last, offset in runs:
        while last - first + 1 > room:
            groups[-1].append([first, first + room - 1, offset])
            first += room
            groups.append([])
            room = size
        groups[-1].append([first, last, offset])
        room -= last - first + 1
    return [group for group in groups if group]


def _compare(
    pair: Pair, old: Side, new: Side, runs: list[list[int]], skip: np.ndarray
) -> Differing:
    """The pairs in `runs` whose rows differ (old fids in `skip` are not pairs), the runs
    split between the worker threads."""
    fields = [f for f in new.fields if f.lower() in {o.lower() for o in old.fields}]
    old_names = {o.lower(): o for o in old.fields}
    pairs = [(quote(old_names[f.lower()]), quote(f)) for f in fields]
    ga, gb = quote(old.geometry), quote(new.geometry)
    idcol = quote(new.id_column) if new.id_column else "NULL"
    select = [f"a.{quote(old.fid)}", f"b.{quote(new.fid)}", f"b.{idcol}", f"a.{ga} IS NOT b.{gb}"]
    for a, b in pairs:
        select += [f"a.{a} IS NOT b.{b}", f"a.{a}", f"b.{b}"]
    select += [f"a.{ga}", f"b.{gb}"]
    differs = " OR ".join([f"a.{ga} IS NOT b.{gb}", *(f"a.{a} IS NOT b.{b}" for a, b in pairs)])
    sql = (
        f"SELECT {', '.join(select)} FROM json_each(?) AS r "
        f"JOIN {old.ref} AS a ON a.{quote(old.fid)} "
        "BETWEEN json_extract(r.value, '$[0]') AND json_extract(r.value, '$[1]') "
        f"JOIN {new.ref} AS b ON b.{quote(new.fid)} = "
        f"a.{quote(old.fid)} + json_extract(r.value, '$[2]') "
        f"WHERE a.{quote(old.fid)} NOT IN (SELECT value FROM json_each(?)) AND ({differs})"
    )
    skipped = json.dumps(skip.tolist())

    def differing(conn: sqlite3.Connection, group: list[list[int]]) -> list[Any]:
        return conn.execute(sql, (json.dumps(group), skipped)).fetchall()

    rows = [row for part in pair.run(differing, _split(runs, WORKERS)) for row in part]
    n = len(rows)

    def column(i: int, dtype: Any = object) -> np.ndarray:
        out = np.empty(n, dtype=dtype)
        out[:] = [r[i] for r in rows]
        return out

    changed, old_values, new_values = {}, {}, {}
    for k, name in enumerate(fields):
        changed[name] = column(4 + 3 * k, bool)
        old_values[name] = column(5 + 3 * k)
        new_values[name] = column(6 + 3 * k)
    last = 4 + 3 * len(fields)
    return Differing(
        old_fids=column(0, np.int64),
        new_fids=column(1, np.int64),
        ids=column(2),
        geometry=column(3, bool),
        old_blobs=[r[last] for r in rows],
        new_blobs=[r[last + 1] for r in rows],
        changed=changed,
        old_values=old_values,
        new_values=new_values,
    )


def read_rows(conn: sqlite3.Connection, side: Side | None, fids: np.ndarray) -> Rows:
    """The id, code and geometry of the rows with these feature ids, in feature id order."""
    if side is None or not len(fids):
        empty = np.empty(0, dtype=object)
        return Rows(np.empty(0, dtype=np.int64), empty, empty, [])
    idcol = quote(side.id_column) if side.id_column else "NULL"
    code = quote(side.code) if side.code else "NULL"
    rows = conn.execute(
        f"SELECT {quote(side.fid)}, {idcol}, {code}, {quote(side.geometry)} FROM {side.ref} "
        f"WHERE {quote(side.fid)} IN (SELECT value FROM json_each(?)) ORDER BY {quote(side.fid)}",
        (json.dumps(np.asarray(fids).tolist()),),
    ).fetchall()
    ids = np.empty(len(rows), dtype=object)
    ids[:] = [r[1] for r in rows]
    codes = np.empty(len(rows), dtype=object)
    codes[:] = [r[2] for r in rows]
    return Rows(
        np.fromiter((r[0] for r in rows), np.int64, len(rows)), ids, codes, [r[3] for r in rows]
    )


# -- the whole layer ---------------------------------------------------------------------------


def _row_hashes(side: Side | None) -> RowHashes | None:
    """The side's row hashes, if the release has them for this table and id field."""
    if side is None or side.id_column is None:
        return None
    hashes = read_row_hashes(row_hashes_path(side.path, side.table))
    if hashes is None or hashes.id_column.lower() != side.id_column.lower():
        return None
    return hashes


def _differing_only(
    old: RowHashes, new: RowHashes, pair_old: np.ndarray, pair_new: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose row hashes differ (the others are equal rows)."""
    differ = (
        old.hash[np.searchsorted(old.fid, pair_old)] != new.hash[np.searchsorted(new.fid, pair_new)]
    )
    return pair_old[differ], pair_new[differ]


def match_layer(pair: Pair, old: Side | None, new: Side | None) -> LayerMatch:
    """Match one layer's features between the sides (None: the layer is absent on that side:
    every feature of the other side is added or removed)."""
    old_hashes, new_hashes = _row_hashes(old), _row_hashes(new)
    if old_hashes is not None and new_hashes is not None:
        old_fids, old_raw = old_hashes.fid, old_hashes.id
        new_fids, new_raw = new_hashes.fid, new_hashes.id
    else:
        (old_fids, old_raw), (new_fids, new_raw) = pair.run(_read_ids, [old, new])
    old_ids, old_missing = _normalise(old_raw)
    new_ids, new_missing = _normalise(new_raw)
    if old_ids.dtype != new_ids.dtype and len(old_ids) and len(new_ids):
        old_ids, new_ids = _as_text(old_ids), _as_text(new_ids)  # one side holds text ids
    old_index, new_index = pd.Index(old_ids), pd.Index(new_ids)
    if _unique(old_index, old_missing) and _unique(new_index, new_missing):
        # every id present and once a side (as a build writes them): one hash table a side
        old_dup, new_dup = np.zeros(len(old_ids), bool), np.zeros(len(new_ids), bool)
        old_ok, new_ok = old_dup.copy(), new_dup.copy()
        old_ok[:], new_ok[:] = True, True
        position = new_index.get_indexer(old_index)
    else:
        old_dup, new_dup = _duplicated(old_ids, old_missing), _duplicated(new_ids, new_missing)
        # an id repeated on one side matches nothing on the other either
        old_ok = ~old_missing & ~old_dup & ~old_index.isin(new_index[new_dup])
        new_ok = ~new_missing & ~new_dup & ~new_index.isin(old_index[old_dup])
        position = pd.Index(new_ids[new_ok]).get_indexer(old_ids[old_ok])
    paired = position >= 0
    pair_old = old_fids[old_ok][paired]
    pair_new = new_fids[new_ok][position[paired]]
    removed_mask = old_ok.copy()
    removed_mask[np.flatnonzero(old_ok)[paired]] = False
    added_mask = new_ok.copy()
    added_mask[np.flatnonzero(new_ok)[position[paired]]] = False
    differing = _no_pairs()
    if (
        old is not None
        and new is not None
        and old_hashes is not None
        and new_hashes is not None
        and old_hashes.columns == new_hashes.columns
    ):
        old_diff, new_diff = _differing_only(old_hashes, new_hashes, pair_old, pair_new)
        if len(old_diff):
            runs = _runs(old_diff, new_diff, contiguous=True)
            differing = _compare(pair, old, new, runs, np.empty(0, dtype=np.int64))
    elif old is not None and new is not None and len(pair_old):
        unpaired = np.setdiff1d(old_fids, pair_old, assume_unique=True)
        differing = _compare(pair, old, new, _runs(pair_old, pair_new), unpaired)
    return LayerMatch(
        added=read_rows(pair.main, new, new_fids[added_mask]),
        removed=read_rows(pair.main, old, old_fids[removed_mask]),
        differing=differing,
        matched=len(pair_old),
        old_problems=_problems(old_raw, old_fids, old_missing, old_dup),
        new_problems=_problems(new_raw, new_fids, new_missing, new_dup),
    )


def _no_pairs() -> Differing:
    empty = np.empty(0, dtype=object)
    none = np.empty(0, dtype=np.int64)
    return Differing(none, none, empty, np.empty(0, bool), [], [], {}, {}, {})
