"""How many rows hold each value of a feature table's indexed text column: counted once, kept.

A release's feature store never changes, and what clients ask again and again is a class of a
code field: "how many parcels of class 0101, 0301 or 1202" (`DLBM IN (…)`, `DLBM LIKE '03%'`,
`?DLBM=0101`) is numberMatched of a page, and counting it through the index reads every matching
entry (~16 ms for 470,000 of a million parcels). `column_counts` reads a column's values with
their rows once (one pass over its index, ~0.1 s for a million rows), so that every later count
of such a selection adds at most a few thousand numbers. Only a column with an index of its own
(the catalog's code and name fields and `indexed_fields`) whose statistics (ANALYZE, run by the
build) give it at most `MAX_VALUES` distinct values is counted this way: a code field, not a
name or an area.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from publish.gpkg.schema import attribute_index_name, quote

MAX_VALUES = 10_000  # distinct values of a column worth holding the counts of


@dataclass(frozen=True)
class ValueSelection:
    """Rows whose text `column` is one of `values`, or starts with `prefix` (when given)."""

    column: str
    values: tuple[str, ...] = ()
    prefix: str | None = None

    def count(self, counts: dict[str, int]) -> int:
        """The rows selected, from a column's counts (`column_counts`)."""
        if self.prefix is not None:
            return sum(n for value, n in counts.items() if value.startswith(self.prefix))
        return sum(counts.get(value, 0) for value in set(self.values))


def _distinct_estimate(conn: sqlite3.Connection, table: str, column: str) -> float | None:
    """Distinct values of the column by its index's statistics (sqlite_stat1: rows, then rows
    per value); None without them."""
    try:
        row = conn.execute(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND idx = ?",
            (table, attribute_index_name(table, column)),
        ).fetchone()
    except sqlite3.OperationalError:  # no sqlite_stat1: never analysed
        return None
    if row is None:
        return None
    numbers = [int(n) for n in str(row[0]).split()[:2] if n.isdigit()]
    if len(numbers) < 2 or numbers[1] == 0:
        return None
    return numbers[0] / numbers[1]


def column_counts(conn: sqlite3.Connection, table: str, column: str) -> dict[str, int] | None:
    """Each text value of `table.column` and its rows (NULLs left out: no equality or LIKE
    selects them); None when the column has no analysed index of its own or too many values."""
    distinct = _distinct_estimate(conn, table, column)
    if distinct is None or distinct > MAX_VALUES:
        return None
    col = quote(column)
    rows = conn.execute(
        f"SELECT {col}, count(*) FROM {quote(table)} WHERE {col} IS NOT NULL "
        f"GROUP BY {col} LIMIT {MAX_VALUES + 1}"
    ).fetchall()
    if len(rows) > MAX_VALUES or not all(isinstance(value, str) for value, _ in rows):
        return None
    return {str(value): int(n) for value, n in rows}
