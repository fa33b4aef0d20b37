"""CQL2 filters as SQL conditions on a small GeoPackage (tests.gpkg.helpers): LIKE's wildcards and
escapes, spatial predicates exact past the R-tree, features without geometry, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publish.gpkg.reader import GeoPackage
from publish.ogc import where
from publish.ogc.cql import FilterError, parse_filter
from publish.ogc.query import FeatureQuery, run_query
from publish.ogc.where import filter_condition, filter_selection, search_condition
from tests.gpkg.helpers import write_six

BOX = "POLYGON((110 29, 110.1 29, 110.1 29.1, 110 29.1, 110 29))"


def _empty(op: str) -> str:
    """A cql2-json filter `op` with an empty polygon literal."""
    empty = {"type": "Polygon", "coordinates": []}
    return json.dumps({"op": op, "args": [{"property": "geometry"}, empty]})


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory: pytest.TempPathFactory) -> GeoPackage:
    return GeoPackage(write_six(tmp_path_factory.mktemp("gpkg") / "t.gpkg"))


def selected(gpkg: GeoPackage, text: str) -> list[int]:
    table = gpkg.table("t")
    lang = "cql2-json" if text.startswith("{") else None
    where = filter_condition(gpkg, table, parse_filter(text, lang))
    page = run_query(gpkg, table, FeatureQuery(where=where, limit=100, geometry=False))
    assert page.matched == len(page.ids)
    return page.ids


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        (f"S_INTERSECTS(geometry, {BOX})", [1, 3, 5]),  # not the L (2): its envelope only
        (f"S_DISJOINT(geometry, {BOX})", [2, 4]),  # not 6, which has no geometry
        (f"NOT S_INTERSECTS(geometry, {BOX})", [2, 4]),  # the same: unknown stays unknown
        (f"S_INTERSECTS(geometry, {BOX}) OR BSM = 6", [1, 3, 5, 6]),
        (f"NOT (S_INTERSECTS(geometry, {BOX}) OR BSM = 2)", [4]),  # 6: unknown, not selected
        (f"NOT S_DISJOINT(geometry, {BOX})", [1, 3, 5]),
        (f"S_WITHIN(geometry, {BOX})", [1]),
        (f"S_CROSSES(geometry, {BOX})", [5]),
        (f"S_OVERLAPS(geometry, {BOX})", [3]),
        ("S_INTERSECTS(geometry, POINT(110.2 29.0))", [2]),  # inside the L
        (_empty("s_intersects"), []),
        (_empty("s_disjoint"), [1, 2, 3, 4, 5]),
        (f"S_INTERSECTS(geometry, {BOX}) AND MC = '甲'", [1, 5]),
        ("MC LIKE '%'", [1, 2, 3, 4, 5, 6]),
        ("MC LIKE '_'", [1, 2, 3, 4, 5, 6]),  # one character, however many bytes
        ("MC LIKE '甲%'", [1, 5]),
        ("MC LIKE '__'", []),
        ("MJ / 2 = 2.5", [1]),  # real division on a REAL column
        ("BSM / 2 = 1.5", [3]),  # and on an INTEGER one
        ("BSM = 1 OR BSM = 2 OR BSM = 3 OR BSM = 4", [1, 2, 3, 4]),
        ("MJ BETWEEN 3 AND 7", [1, 2, 5]),
    ],
)
def test_selection(gpkg: GeoPackage, text: str, ids: list[int]) -> None:
    assert selected(gpkg, text) == ids


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        (f"S_INTERSECTS(geometry, {BOX})", 3),  # the whole filter: its id list
        (f"S_WITHIN(geometry, {BOX})", 1),
        (_empty("s_intersects"), 0),
        (f"S_DISJOINT(geometry, {BOX})", None),  # the complement: counted
        (f"NOT S_INTERSECTS(geometry, {BOX})", None),
        (f"S_INTERSECTS(geometry, {BOX}) AND MC = '甲'", None),
        (f"S_INTERSECTS(geometry, {BOX}) OR BSM = 6", None),
        ("MC = '甲'", None),
    ],
)
def test_a_lone_spatial_predicate_knows_its_count(
    gpkg: GeoPackage, text: str, matched: int | None
) -> None:
    """Its count is its id list's length, so the page needs no count query; pages of it
    agree with a counted selection at every offset."""
    table = gpkg.table("t")
    lang = "cql2-json" if text.startswith("{") else None
    where, known, at_most = filter_selection(gpkg, table, parse_filter(text, lang))
    assert known == matched
    counted = run_query(gpkg, table, FeatureQuery(where=where, limit=100, geometry=False))
    for offset, limit in ((0, 1), (1, 1), (0, 2), (2, 5), (9, 1)):
        query = FeatureQuery(
            where=where, matched=known, at_most=at_most, offset=offset, limit=limit
        )
        page = run_query(gpkg, table, query)
        assert page.matched == counted.matched
        assert page.ids == counted.ids[offset : offset + limit]
    sorted_page = run_query(
        gpkg, table, FeatureQuery(where=where, matched=known, limit=1, sortby=[("MJ", True)])
    )
    assert sorted_page.matched == counted.matched
    if known is not None and lang is None:  # a property equality beside it: counted
        both = FeatureQuery(where=where, matched=known, equals=[("MC", "甲")], limit=1)
        assert run_query(gpkg, table, both).matched == len(selected(gpkg, f"{text} AND MC = '甲'"))


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        (r"a\%b", ["a%b"]),  # an escaped wildcard is the character
        (r"a\_b", ["a_b"]),
        ("a*b", ["a*b"]),  # GLOB's own wildcards are plain characters in LIKE
        ("a?b", ["a?b"]),
        ("a[b", ["a[b"]),
        ("a_b", ["a%b", "a_b", "a*b", "a?b", "a[b", "aXb"]),
        ("A%", []),  # case-sensitive
    ],
)
def test_like_wildcards_and_escapes(
    tmp_path_factory: pytest.TempPathFactory, pattern: str, matches: list[str]
) -> None:
    import geopandas as gpd
    import shapely

    path = tmp_path_factory.mktemp("like") / "like.gpkg"
    names = ["a%b", "a_b", "a*b", "a?b", "a[b", "aXb", "ab"]
    frame = gpd.GeoDataFrame(
        {"MC": names}, geometry=[shapely.Point(110, 29)] * len(names), crs="EPSG:4326"
    )
    frame.to_file(path, layer="t", driver="GPKG", engine="pyogrio")
    gpkg = GeoPackage(path)
    escaped = pattern.replace("'", "''")
    ids = selected(gpkg, f"MC LIKE '{escaped}'")
    assert [names[i - 1] for i in ids] == matches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fid = 1", "t has no queryable property 'fid'"),
        ("MC = 1", "a string cannot be compared with a number"),
        ("MC IN ('甲', 2)", "IN compares a string with a number"),
        ("S_INTERSECTS(geometry, geometry)", "needs a geometry literal"),
        ("S_EQUALS(MC, POINT(1 2))", "needs the property 'geometry'"),
    ],
)
def test_refused(gpkg: GeoPackage, text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        filter_condition(gpkg, gpkg.table("t"), parse_filter(text))


def test_search_condition(gpkg: GeoPackage) -> None:
    table = gpkg.table("t")
    where = search_condition(table, "甲, 丙", "MC", None)
    page = run_query(gpkg, table, FeatureQuery(where=where, limit=10, geometry=False))
    assert page.ids == [1, 3, 5]
    with pytest.raises(FilterError, match="not available on t"):
        search_condition(table, "甲", None, None)
    with pytest.raises(FilterError, match="at least one search term"):
        search_condition(table, " , ", "MC", None)


def _calls(gpkg: GeoPackage, method: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The calls of `gpkg`'s `method` from now on (their positional arguments)."""
    calls: list[object] = []
    real = getattr(gpkg, method)

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(gpkg, method, spy)
    return calls


def test_a_spatial_selection_is_kept_with_its_geopackage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpkg = GeoPackage(write_six(tmp_path / "t.gpkg"))
    table = gpkg.table("t")
    reads = _calls(gpkg, "rows_in_box", monkeypatch)
    first = filter_selection(gpkg, table, parse_filter(f"S_INTERSECTS(geometry, {BOX})"))
    again = filter_selection(gpkg, table, parse_filter(f"S_INTERSECTS(geometry, {BOX})"))
    assert again == first
    assert first[1] == 3 and len(reads) == 1  # 1, 3 and 5, found once
    within = filter_selection(gpkg, table, parse_filter(f"S_WITHIN(geometry, {BOX})"))
    assert within[1] == 1 and len(reads) == 2  # another test: its own selection
    mirrored = filter_selection(gpkg, table, parse_filter(f"S_CONTAINS({BOX}, geometry)"))
    assert mirrored == within and len(reads) == 2  # the same test, written the other way
    other = GeoPackage(gpkg.path)  # another file object (a release switch): found again
    other_reads = _calls(other, "rows_in_box", monkeypatch)
    found = filter_selection(other, other.table("t"), parse_filter(f"S_WITHIN(geometry, {BOX})"))
    assert found == within and len(other_reads) == 1


def test_a_large_spatial_selection_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpkg = GeoPackage(write_six(tmp_path / "t.gpkg"))
    reads = _calls(gpkg, "rows_in_box", monkeypatch)
    monkeypatch.setattr(where, "KEPT_IDS", 2)
    for _ in range(2):
        found = filter_selection(
            gpkg, gpkg.table("t"), parse_filter(f"S_INTERSECTS(geometry, {BOX})")
        )
        assert found.matched == 3
    assert len(reads) == 2


@pytest.mark.parametrize(("limit", "counts"), [(10, 0), (2, 1)])
def test_a_spatial_selection_anded_reads_its_first_page_before_counting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int, counts: int
) -> None:
    gpkg = GeoPackage(write_six(tmp_path / "t.gpkg"))
    table = gpkg.table("t")
    counted = _calls(gpkg, "count_in_box", monkeypatch)
    text = f"S_INTERSECTS(geometry, {BOX}) AND MJ > 0"
    where, matched, at_most = filter_selection(gpkg, table, parse_filter(text))
    assert (matched, at_most) == (None, 3)
    query = FeatureQuery(where=where, at_most=at_most, limit=limit, geometry=False)
    page = run_query(gpkg, table, query)
    assert len(counted) == counts  # a page that is not full is the count
    assert page.matched == len(selected(gpkg, text)) == 3
    assert page.ids == [1, 3, 5][:limit]


@pytest.mark.parametrize(
    "text",
    [
        f"S_INTERSECTS(geometry, {BOX}) OR MJ > 0",  # OR: no bound
        f"NOT S_INTERSECTS(geometry, {BOX}) AND MJ > 0",  # negated: no bound
        f"S_DISJOINT(geometry, {BOX}) AND MJ > 0",  # the ids it excludes
    ],
)
def test_only_a_spatial_predicate_anded_bounds_the_count(gpkg: GeoPackage, text: str) -> None:
    assert filter_selection(gpkg, gpkg.table("t"), parse_filter(text)).at_most is None
