"""Feature queries on a small GeoPackage (tests.gpkg.helpers): bbox exactness, numberMatched,
filters, sorting, paging, and column names that are not the table's."""

from __future__ import annotations

import pytest
import shapely

from publish.gpkg.reader import GeoPackage
from publish.ogc.query import FeatureQuery, QueryError, get_feature, run_query
from tests.gpkg.helpers import BOX, write_six


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory: pytest.TempPathFactory) -> GeoPackage:
    return GeoPackage(write_six(tmp_path_factory.mktemp("gpkg") / "t.gpkg"))


def test_bbox_is_exact(gpkg: GeoPackage) -> None:
    table = gpkg.table("t")
    page = run_query(gpkg, table, FeatureQuery(bbox=BOX, limit=10))
    assert page.ids == [1, 3, 5]  # not the L (2), though its envelope meets the box
    assert page.matched == 3
    assert [row[0] for row in page.rows] == [1, 3, 5]
    assert page.geometries is not None and page.geometries[0].equals(
        shapely.box(110.02, 29.02, 110.03, 29.03)
    )


def test_matched_counts_beyond_the_page(gpkg: GeoPackage) -> None:
    table = gpkg.table("t")
    first = run_query(gpkg, table, FeatureQuery(bbox=BOX, limit=2))
    assert (first.ids, first.matched) == ([1, 3], 3)
    second = run_query(gpkg, table, FeatureQuery(bbox=BOX, limit=2, offset=2))
    assert (second.ids, second.matched) == ([5], 3)
    past = run_query(gpkg, table, FeatureQuery(bbox=BOX, limit=2, offset=10))
    assert (past.ids, past.matched) == ([], 3)
    hits = run_query(gpkg, table, FeatureQuery(limit=0))
    assert (hits.ids, hits.matched) == ([], 6)


def test_equality_filters_and_sorting(gpkg: GeoPackage) -> None:
    table = gpkg.table("t")
    page = run_query(gpkg, table, FeatureQuery(equals=[("MC", "甲")], limit=10))
    assert (page.ids, page.matched) == ([1, 5], 2)
    page = run_query(gpkg, table, FeatureQuery(equals=[("BSM", "3")], limit=10))
    assert page.ids == [3]  # a text value compares with an integer column as a number
    page = run_query(gpkg, table, FeatureQuery(sortby=[("MJ", True)], limit=3, geometry=False))
    assert page.ids == [3, 5, 1] and page.geometries is None
    page = run_query(
        gpkg, table, FeatureQuery(bbox=BOX, equals=[("MC", "丙")], columns=["MC"], limit=10)
    )
    assert (page.ids, page.rows, page.matched) == ([3], [("丙",)], 1)


@pytest.mark.parametrize(
    "query",
    [
        FeatureQuery(equals=[('MC" = "MC" OR 1=1 --', "x")]),
        FeatureQuery(sortby=[("MJ; DROP TABLE t", False)]),
        FeatureQuery(columns=["fid"]),
        FeatureQuery(limit=-1),
    ],
    ids=["filter", "sortby", "id-as-column", "negative-limit"],
)
def test_unknown_columns_are_refused(gpkg: GeoPackage, query: FeatureQuery) -> None:
    with pytest.raises(QueryError):
        run_query(gpkg, gpkg.table("t"), query)


def test_one_feature(gpkg: GeoPackage) -> None:
    table = gpkg.table("t")
    page = get_feature(gpkg, table, 2)
    assert page.ids == [2] and page.rows == [(2, "乙", 3.0)]
    assert get_feature(gpkg, table, 6).geometries[0] is None  # type: ignore[index]
    assert get_feature(gpkg, table, 99).ids == []
