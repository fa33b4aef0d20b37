"""CQL2 filters and `q` on a PostGIS deployment (publish.ogc.postgis_features): the expression
table of tests/ogc/test_cql2.py run against the session's full release re-published on PostGIS,
each answer (ids and numberMatched) equal to the GeoPackage provider's and to the independent
geopandas selection; the same 400s; injection refused or finding nothing. Runs a throwaway
PostgreSQL + PostGIS cluster (needs root)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
import yaml

from publish.ogc.postgis import POSTGRESQL_PROVIDER, Database
from publish.ogc.routes import FILTER_CLASSES
from publish.pipeline.build import BuildResult
from publish.release.postgis import publish_on_postgis
from publish.server.settings import Settings
from support.postgis import postgis_cluster
from tests.ogc import test_cql2
from tests.ogc.test_cql2 import (
    BAD,
    EPSG,
    INJECTIONS,
    JSON_CASES,
    SQUARE_GEOM,
    TEXT_CASES,
    Client,
    Mask,
    Table,
    _all_items,
    _expected,
    _geo,
    _square_in,
)
from tests.server.helpers import make_client, point_current

ARITHMETIC = "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic"
# Expressions PostGIS cannot answer as the GeoPackage provider does: (the conformance class they
# belong to, which is then not declared; why). None of the table of test_cql2 is here.
NOT_IDENTICAL: dict[str, tuple[str, str]] = {
    "MJ * 1e308 * 1e308 > 0": (
        ARITHMETIC,
        "a double precision overflow: SQLite reaches infinity, PostgreSQL refuses (a 400)",
    ),
}


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with postgis_cluster() as database:
        yield database


@pytest.fixture(scope="module")
def pg_tiles(
    db: Database, full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A tiles folder whose current release is the full release re-published on PostGIS."""
    out = tmp_path_factory.mktemp("postgis-cql2") / "tiles"
    (out / "releases").mkdir(parents=True)
    (out / "releases" / full_release.path.name).symlink_to(full_release.path)
    point_current(out, full_release.path.name)
    publish_on_postgis(out, db)
    return out


@pytest.fixture(scope="module")
def pg_full_client(pg_tiles: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A client on the PostGIS deployment of the full release."""
    from publish.server.auth import append_token_hash, new_token

    root = tmp_path_factory.mktemp("postgis-cql2-tokens")
    out = pg_tiles
    token = new_token()
    append_token_hash(root / "tokens", token)
    settings = Settings(tiles_dir=out, tokens_file=root / "tokens", reload_interval_s=5)
    with make_client(settings) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def test_the_collections_are_on_our_postgis_provider(pg_tiles: Path) -> None:
    doc = yaml.safe_load((pg_tiles / "current" / "ogc" / "public.yml").read_text("utf-8"))
    providers = [
        p
        for resource in doc["resources"].values()
        if resource["type"] == "collection"
        for p in resource["providers"]
        if p["type"] == "feature"
    ]
    assert len(providers) > 5
    assert {p["name"] for p in providers} == {POSTGRESQL_PROVIDER}
    dltb = doc["resources"]["dltb"]["providers"]
    assert [p["code_field"] for p in dltb if p["type"] == "feature"] == ["DLBM"]


def _same(pg: Client, gpkg: Client, table: Table, layer: str, mask: Mask, **params: Any) -> None:
    ids, matched = _all_items(pg[0], layer, **params)
    ours, our_matched = _all_items(gpkg[0], layer, **params)
    expected = _expected(table(layer), mask)
    assert sorted(ids) == sorted(ours) == expected
    assert matched == our_matched == len(expected)


@pytest.mark.parametrize(("layer", "text", "mask"), TEXT_CASES, ids=[c[1][:60] for c in TEXT_CASES])
def test_cql2_text_answers_as_the_geopackage_provider(
    pg_full_client: Client,
    full_client: Client,
    feature_table: Table,
    layer: str,
    text: str,
    mask: Mask,
) -> None:
    assert text not in NOT_IDENTICAL
    _same(pg_full_client, full_client, feature_table, layer, mask, filter=text)


@pytest.mark.parametrize(
    ("layer", "document", "mask"), JSON_CASES, ids=[json.dumps(c[1])[:60] for c in JSON_CASES]
)
def test_cql2_json_answers_as_the_geopackage_provider(
    pg_full_client: Client,
    full_client: Client,
    feature_table: Table,
    layer: str,
    document: dict[str, Any],
    mask: Mask,
) -> None:
    params = {"filter": json.dumps(document), "filter-lang": "cql2-json"}
    _same(pg_full_client, full_client, feature_table, layer, mask, **params)


@pytest.mark.parametrize("code", ["4326", "4490"])
def test_filter_crs_in_lat_lon(
    pg_full_client: Client, full_client: Client, feature_table: Table, code: str
) -> None:
    params = {
        "filter": f"S_INTERSECTS(geometry, {_square_in(f'EPSG:{code}')})",
        "filter-crs": EPSG + code,
    }
    mask: Mask = lambda f: shapely.intersects(_geo(f), SQUARE_GEOM)  # noqa: E731
    _same(pg_full_client, full_client, feature_table, "ydyh", mask, **params)


def test_filter_crs_in_the_working_crs(pg_full_client: Client, full_client: Client) -> None:
    crs = str(full_client[0].get("/ogc/collections/ydyh").json()["storageCrs"])
    offered = full_client[0].get("/ogc/collections/ydyh").json()["crs"]
    working = [c for c in offered if c.startswith(EPSG) and c[len(EPSG) :] not in ("4326", "4490")]
    assert working and crs
    code = working[0][len(EPSG) :]
    params = {"filter": f"S_INTERSECTS(geometry, {_square_in(f'EPSG:{code}')})"}
    params["filter-crs"] = working[0]
    ids, matched = _all_items(pg_full_client[0], "ydyh", **params)
    ours, our_matched = _all_items(full_client[0], "ydyh", **params)
    assert sorted(ids) == sorted(ours) and matched == our_matched > 0


def test_free_text_search(
    pg_full_client: Client, full_client: Client, feature_table: Table
) -> None:
    _same(pg_full_client, full_client, feature_table, "dltb", lambda f: f.DLBM == "0101", q="水田")
    both: Mask = lambda f: f.DLBM.isin(["0101", "0103"])  # noqa: E731
    _same(pg_full_client, full_client, feature_table, "dltb", both, q="水田,旱地")
    term = str(feature_table("cun").CJMC.iloc[0])[:2]
    named: Mask = lambda f: f.CJMC.astype(str).str.contains(term, regex=False)  # noqa: E731
    _same(pg_full_client, full_client, feature_table, "cun", named, q=term)
    _same(pg_full_client, full_client, feature_table, "cun", lambda f: f.CJMC != f.CJMC, q="%")
    r = pg_full_client[0].get("/ogc/collections/yjjbnt/items", params={"q": "水田"})
    assert r.status_code == 400 and "free-text search (q) is not available" in r.text


def test_pages_of_a_filter_with_bbox_equality_and_sortby_agree(
    pg_full_client: Client, feature_table: Table
) -> None:
    """test_cql2's paging test, run on the PostGIS client."""
    test_cql2.test_pages_of_a_filter_with_bbox_equality_and_sortby_agree(
        pg_full_client, feature_table
    )


@pytest.mark.parametrize("layer", ["ydyh", "dltb", "cun"])
def test_queryables_are_the_geopackage_provider_s(
    pg_full_client: Client, full_client: Client, layer: str
) -> None:
    url = f"/ogc/collections/{layer}/queryables"
    theirs, ours = pg_full_client[0].get(url), full_client[0].get(url)
    assert theirs.status_code == ours.status_code == 200
    assert theirs.json()["properties"] == ours.json()["properties"]


def test_long_chains_and_deep_parentheses(
    pg_full_client: Client, full_client: Client, feature_table: Table
) -> None:
    chain = " OR ".join(f"BSM = {700000000 + n}" for n in range(1, 450))
    mask: Mask = lambda f: f.BSM.between(700000001, 700000449)  # noqa: E731
    _same(pg_full_client, full_client, feature_table, "ydyh", mask, filter=chain)
    deep = "(" * 300 + "MJ > 500000" + ")" * 300
    _same(pg_full_client, full_client, feature_table, "ydyh", lambda f: f.MJ > 500000, filter=deep)


@pytest.mark.parametrize(("params", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_filters_are_the_same_400s(
    pg_full_client: Client, params: dict[str, str], message: str
) -> None:
    r = pg_full_client[0].get("/ogc/collections/ydyh/items", params=params)
    assert r.status_code == 400, r.text
    assert message in r.json()["description"]


@pytest.mark.parametrize(("text", "outcome"), INJECTIONS, ids=[t[0][:30] for t in INJECTIONS])
def test_injection_is_refused_or_finds_nothing(
    pg_full_client: Client, text: str, outcome: str
) -> None:
    client, _ = pg_full_client
    r = client.get("/ogc/collections/ydyh/items", params={"filter": text})
    assert r.status_code in (200, 400), r.text
    for word in ("sql", "psycopg", "postgres", "select"):
        assert word not in r.text.lower()
    if outcome == "400":
        assert r.status_code == 400
    if r.status_code == 200:
        assert r.json()["numberMatched"] == 0
    total = client.get("/ogc/collections/ydyh/items", params={"limit": 1}).json()
    assert total["numberMatched"] > 0  # the table is still there


# Beyond the table: what SQLite and PostgreSQL would each do their own way, made the same.
EDGES: list[tuple[str, Mask]] = [
    ("BSM / 0 > 1", lambda f: f.BSM != f.BSM),  # by zero: NULL, not an error
    ("MJ / 0 IS NULL", lambda f: f.MJ == f.MJ),
    ("XZQMC LIKE '%\\'", lambda f: f.XZQMC.str.endswith("\\")),  # a lone trailing escape
    ("XZQMC LIKE '%\\%'", lambda f: f.XZQMC.str.contains("%", regex=False)),
    ("EXCLUDE", lambda f: f.MJ != f.MJ),
    ("XZQMC = 'x' OR INCLUDE", lambda f: f.MJ == f.MJ),
    ("XZQMC > '银桥镇'", lambda f: f.XZQMC > "银桥镇"),  # code point order, not a locale's
    ("XZQMC BETWEEN 'A' AND '镇'", lambda f: f.XZQMC.between("A", "镇")),
    ("YDYHFLDM < '0a'", lambda f: f.YDYHFLDM < "0a"),
]


@pytest.mark.parametrize(("text", "mask"), EDGES, ids=[e[0] for e in EDGES])
def test_edges_answer_as_the_geopackage_provider(
    pg_full_client: Client, full_client: Client, feature_table: Table, text: str, mask: Mask
) -> None:
    _same(pg_full_client, full_client, feature_table, "ydyh", mask, filter=text)


def test_nul_in_text_is_refused_by_both(pg_full_client: Client, full_client: Client) -> None:
    for client in (pg_full_client[0], full_client[0]):
        for params in ({"filter": "XZQMC <> 'a\x00'"}, {"q": "\x00"}):
            r = client.get("/ogc/collections/ydyh/items", params=params)
            assert r.status_code == 400, r.text
            assert "NUL character" in r.json()["description"]


@pytest.mark.parametrize("text", list(NOT_IDENTICAL))
def test_what_is_not_identical_is_a_400_naming_no_sql(pg_full_client: Client, text: str) -> None:
    r = pg_full_client[0].get("/ogc/collections/ydyh/items", params={"filter": text})
    assert r.status_code == 400, r.text
    assert r.json()["description"] == "the filter cannot be evaluated on this collection"


def test_conformance_declares_the_filter_classes(pg_full_client: Client) -> None:
    declared = set(pg_full_client[0].get("/ogc/conformance").json()["conformsTo"])
    assert set(FILTER_CLASSES) <= declared
    assert "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2" in declared
    for conformance_class, _why in NOT_IDENTICAL.values():
        assert conformance_class not in declared
