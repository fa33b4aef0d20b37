"""How an attribute or spatial filter is read: through the build's attribute indexes when it
selects few rows, by the table in id order when it selects many, and by id lookups for a spatial
predicate — always with the answer an independent selection gives."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import shapely

from publish.features.store import assemble
from publish.gpkg.reader import GeoPackage
from publish.ogc.cql import parse_filter
from publish.ogc.query import FeatureQuery, run_query
from publish.ogc.where import filter_condition, value_selection
from tests.features.helpers import CELL, LAT0, LON0, squares, write_layer

ROWS = 4000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plans")
    layer = root / "ydyh.gpkg"
    fids = list(range(1, ROWS + 1))
    write_layer(layer, [squares(fids[:2500]), squares(fids[2500:])], indexed=("YDYHFLDM", "MJ"))
    assemble(root / "public.gpkg", [("ydyh", layer)])
    return root / "public.gpkg"


@contextmanager
def statements(gpkg: GeoPackage) -> Iterator[list[str]]:
    """The SQL the GeoPackage's connection runs (on this thread) while inside."""
    seen: list[str] = []
    conn = gpkg.connection()
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def plan(path: Path, sql: str) -> str:
    """SQLite's query plan of `sql` (as traced: parameters expanded), one line."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return " | ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    finally:
        conn.close()


def test_the_store_indexes_the_catalog_fields(store: Path) -> None:
    conn = sqlite3.connect(store)
    try:
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ydyh' "
            "AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
        stats = dict(conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'ydyh'"))
    finally:
        conn.close()
    assert [row[0] for row in indexes] == ["idx_ydyh_MJ", "idx_ydyh_YDYHFLDM"]
    # ANALYZE ran on the assembled store: the planner knows the rows per value
    assert stats["idx_ydyh_YDYHFLDM"] == f"{ROWS} {ROWS // 2}"
    assert stats["idx_ydyh_MJ"].startswith(f"{ROWS} ")


@pytest.mark.parametrize(
    ("text", "mask", "offset", "reads"),
    [
        # 9 rows: through the index, then sorted by id
        ("MJ BETWEEN 100 AND 110", lambda f: f.MJ.between(100, 110), 0, "USING INDEX idx_ydyh_MJ"),
        ("MJ BETWEEN 100 AND 110", lambda f: f.MJ.between(100, 110), 5, "USING INDEX idx_ydyh_MJ"),
        # 3,992 rows: the table in id order holds the page in its first rows
        ("MJ > 10", lambda f: f.MJ > 10, 0, "SCAN t"),
        ("MJ > 10", lambda f: f.MJ > 10, 3000, "SCAN t"),
        ("YDYHFLDM LIKE '07%'", lambda f: f.YDYHFLDM.str.startswith("07"), 40, "SCAN t"),
        (
            "YDYHFLDM = '0701' AND MJ < 50",
            lambda f: (f.YDYHFLDM == "0701") & (f.MJ < 50),
            0,
            "USING INDEX",
        ),
    ],
)
def test_a_page_reads_by_the_cheaper_plan(
    store: Path, text: str, mask: Callable[[Any], Any], offset: int, reads: str
) -> None:
    gpkg = GeoPackage(store)
    table = gpkg.table("ydyh")
    frame = squares(range(1, ROWS + 1))
    expected = sorted(frame.loc[mask(frame), "fid"])
    where = filter_condition(gpkg, table, parse_filter(text, None))
    with statements(gpkg) as seen:
        page = run_query(gpkg, table, FeatureQuery(where=where, limit=20, offset=offset))
    assert page.matched == len(expected)
    assert page.ids == expected[offset : offset + 20]
    assert [row[0] for row in page.rows] == [f"430802{v:012d}" for v in page.ids]
    read = plan(store, next(sql for sql in seen if "LIMIT" in sql))
    assert reads in read, read
    if reads == "SCAN t":  # in id order already: nothing sorted
        assert "TEMP B-TREE" not in read, read


def test_a_spatial_predicate_looks_its_ids_up(store: Path) -> None:
    gpkg = GeoPackage(store)
    table = gpkg.table("ydyh")
    box = shapely.box(LON0 + 3.5 * CELL, LAT0 + 2.5 * CELL, LON0 + 6.5 * CELL, LAT0 + 4.5 * CELL)
    frame = squares(range(1, ROWS + 1))
    for text, expected in (
        (f"S_INTERSECTS(geometry, {box.wkt})", frame[frame.intersects(box)]),
        (
            f"S_INTERSECTS(geometry, {box.wkt}) AND YDYHFLDM = '0101'",
            frame[frame.intersects(box) & (frame.YDYHFLDM == "0101")],
        ),
    ):
        where = filter_condition(gpkg, table, parse_filter(text, None))
        with statements(gpkg) as seen:
            page = run_query(gpkg, table, FeatureQuery(where=where, limit=100))
        assert page.ids == sorted(expected["fid"]) and page.matched == len(expected)
        assert len(expected) >= 6
        for sql in seen:  # the count and the page: ids looked up, never the table scanned
            if "json_each" in sql:
                read = plan(store, sql)
                assert "SCAN t" not in read and "USING INTEGER PRIMARY KEY" in read, read


def test_paging_through_a_selection_counts_it_once(store: Path) -> None:
    gpkg = GeoPackage(store)
    table = gpkg.table("ydyh")
    where = filter_condition(gpkg, table, parse_filter("YDYHFLDM = '0101' AND MJ > 7", None))
    expected = [fid for fid in range(2, ROWS + 1, 2) if fid * 1.25 > 7]
    got: list[int] = []
    with statements(gpkg) as seen:
        for offset in range(0, len(expected) + 500, 500):
            page = run_query(gpkg, table, FeatureQuery(where=where, limit=500, offset=offset))
            assert page.matched == len(expected)
            got += page.ids
    assert got == expected
    assert sum("count(*)" in sql for sql in seen) == 1


@pytest.mark.parametrize(
    ("text", "mask", "counted"),
    [
        ("YDYHFLDM IN ('0701', '0101', '9999')", lambda f: f.YDYHFLDM.isin(["0701", "0101"]), True),
        ("YDYHFLDM = '0101'", lambda f: f.YDYHFLDM == "0101", True),
        ("'0701' = YDYHFLDM", lambda f: f.YDYHFLDM == "0701", True),
        ("YDYHFLDM LIKE '07%'", lambda f: f.YDYHFLDM.str.startswith("07"), True),
        ("YDYHFLDM LIKE '0_01'", lambda f: f.YDYHFLDM.isin(["0701", "0101"]), False),
        ("YDYHFLDM NOT IN ('0701')", lambda f: f.YDYHFLDM != "0701", False),
        ("YDYHFLMC = '水田'", lambda f: f.YDYHFLMC == "水田", False),  # no index of its own
        ("MJ > 100", lambda f: f.MJ > 100, False),  # a number
    ],
)
def test_a_code_class_is_counted_from_its_value_counts(
    store: Path, text: str, mask: Callable[[Any], Any], counted: bool
) -> None:
    gpkg = GeoPackage(store)  # an object of its own: its counts not read yet
    table = gpkg.table("ydyh")
    frame = squares(range(1, ROWS + 1))
    expected = sorted(frame.loc[mask(frame), "fid"])
    value = parse_filter(text, None)
    query = FeatureQuery(
        where=filter_condition(gpkg, table, value),
        selection=value_selection(value.node, table),
        limit=10,
    )
    with statements(gpkg) as seen:
        page = run_query(gpkg, table, query)
    assert (page.matched, page.ids) == (len(expected), expected[:10])
    # counted from the column's counts (read once, GROUP BY), or by counting the selection
    counts = [sql for sql in seen if "count(*)" in sql and "GROUP BY" not in sql]
    assert (not counts) is counted, seen


def test_property_equality_is_counted_too(store: Path) -> None:
    gpkg = GeoPackage(store)
    table = gpkg.table("ydyh")
    with statements(gpkg) as seen:
        page = run_query(gpkg, table, FeatureQuery(equals=[("YDYHFLDM", "0701")], limit=1))
    assert (page.matched, page.ids) == (ROWS // 2, [1])
    assert not [sql for sql in seen if "count(*)" in sql and "GROUP BY" not in sql], seen
