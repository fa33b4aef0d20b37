"""Deployments on PostGIS: a release published there (publish.ogc.postgis) is served through
our subclass of pygeoapi's PostgreSQL provider with the same answers as our R-tree GeoPackage
provider — numberMatched, bbox, EPSG:4490 in lat/lon order, single items — and the public
audience still never sees an internal layer. Runs a throwaway PostgreSQL 15 + PostGIS cluster
(needs root)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
import yaml

from publish.errors import ReleaseError
from publish.gpkg.schema import indexed_columns, open_readonly
from publish.ogc.postgis import POSTGRESQL_PROVIDER, Database, drop_schema
from publish.release.outputs import RELEASE_OUTPUTS
from publish.release.postgis import main, prune_schemas, publish_on_postgis
from publish.server.errors import ReleaseLoadError
from publish.server.release import load_release
from publish.server.settings import Settings
from support.postgis import new_database, postgis_cluster
from tests.ogc.conftest import INTERNAL_ONLY, PUBLIC
from tests.ogc.test_features import expected_ids, inner_box
from tests.server.helpers import Built, TestClient, make_client, point_current

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
Source = Callable[[str], gpd.GeoDataFrame]


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    with postgis_cluster() as database:
        yield database


@pytest.fixture(scope="module")
def on_postgis(
    db: Database, built_releases: Built, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """A tiles folder of its own whose current release serves features from PostGIS, made from
    the session's first release (linked in, read-only)."""
    out = tmp_path_factory.mktemp("postgis") / "tiles"
    (out / "releases").mkdir(parents=True)
    (out / "releases" / built_releases.first).symlink_to(
        built_releases.release(built_releases.first)
    )
    point_current(out, built_releases.first)
    new_id, path = publish_on_postgis(out, db)
    assert path == out / "releases" / new_id
    return out, new_id


@pytest.fixture(scope="module")
def pg_client(
    on_postgis: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from publish.server.auth import append_token_hash, new_token

    tokens = tmp_path_factory.mktemp("pg-tokens") / "tokens"
    token = new_token()
    append_token_hash(tokens, token)
    settings = Settings(tiles_dir=on_postgis[0], tokens_file=tokens, reload_interval_s=0.2)
    with make_client(settings) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def get_json(client: TestClient, url: str, **kwargs: Any) -> dict[str, Any]:
    r = client.get(url, **kwargs)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_release_reads_features_from_postgis(
    on_postgis: tuple[Path, str], db: Database, built_releases: Built
) -> None:
    out, new_id = on_postgis
    assert os.readlink(out / "current") == f"releases/{new_id}"
    manifest = json.loads((out / "current" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["release"] == new_id
    assert manifest["postgis"]["derived_from"] == built_releases.first
    schemas = manifest["postgis"]["schemas"]
    for audience, layers in (("public", PUBLIC), ("internal", PUBLIC + INTERNAL_ONLY)):
        doc = yaml.safe_load((out / "current" / "ogc" / f"{audience}.yml").read_text("utf-8"))
        for cid, resource in doc["resources"].items():
            if resource["type"] != "collection":
                continue
            (feature,) = [p for p in resource["providers"] if p["type"] == "feature"]
            assert feature["name"] == POSTGRESQL_PROVIDER
            assert feature["data"]["search_path"][0] == schemas[audience]
            assert "password" not in feature["data"]
            assert feature["table"] == cid and feature["id_field"] == "fid"
        # the public schema holds the public tables only, as the public GeoPackage does
        with db.connect() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schemas[audience],),
            )
            assert {name for (name,) in cur.fetchall()} == set(layers)
    # tiles, styles and the GeoPackages are the first release's very files (hard links)
    first = built_releases.release(built_releases.first)
    for rel in ("tiles/public.pmtiles", "features/public.gpkg", "styles/public.json"):
        assert (out / "current" / rel).stat().st_ino == (first / rel).stat().st_ino


def test_the_tables_keep_their_attribute_indexes(
    on_postgis: tuple[Path, str], db: Database
) -> None:
    """Each column the GeoPackage indexes is indexed in PostGIS too, so that a filter on it
    searches there as well; a text column's index serves LIKE 'prefix%' in any collation."""
    out, _ = on_postgis
    schema = json.loads((out / "current" / "manifest.json").read_text("utf-8"))["postgis"][
        "schemas"
    ]["internal"]
    conn = open_readonly(out / "current" / "features" / "internal.gpkg")
    try:
        wanted = {t: dict(indexed_columns(conn, t)) for t in PUBLIC + INTERNAL_ONLY}
    finally:
        conn.close()
    # the catalog's name fields (the sample's code fields and indexed_fields are on layers this
    # release does not serve: tests/ogc/test_plans.py has them)
    assert (wanted["stbhhx"], wanted["spxm"], wanted["czkfbj"]) == (
        {"HXMC": "TEXT"},
        {"XMMC": "TEXT"},
        {},
    )
    with db.connect() as pg, pg.cursor() as cur:
        for table, columns in wanted.items():
            cur.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                (schema, table),
            )
            defs = [row[0] for row in cur.fetchall()]
            for column, declared in columns.items():
                keys = (
                    [f'"{column}" COLLATE "C"', f'"{column}" text_pattern_ops']
                    if declared.upper() == "TEXT"
                    else [f'"{column}"']
                )
                for key in keys:
                    assert any(d.endswith(f"({key})") for d in defs), (table, key, defs)
        cur.execute("SET enable_seqscan = off")  # the sample is small: ask whether it can
        for where in (
            '"HXMC" COLLATE "C" LIKE %s',  # as our provider asks
            '"HXMC" LIKE %s',  # as a client in the database's collation asks
            '"HXMC" COLLATE "C" IN (%s, %s)',
            '"HXMC" IN (%s, %s)',
        ):
            params = ("张家界%",) if "LIKE" in where else ("a", "b")
            cur.execute(f'EXPLAIN SELECT fid FROM "{schema}".stbhhx WHERE {where}', params)
            explained = " ".join(row[0] for row in cur.fetchall())
            assert "Index" in explained and "stbhhx_HXMC_idx" in explained, (where, explained)


def test_postgis_answers_as_the_geopackage_provider_does(
    pg_client: tuple[TestClient, dict[str, str]], client: TestClient, source: Source
) -> None:
    """`client` serves the first release from its GeoPackages; `pg_client` the same features
    from PostGIS."""
    pg, _ = pg_client
    assert {c["id"] for c in get_json(pg, "/ogc/collections")["collections"]} == set(PUBLIC)
    for layer in PUBLIC:
        frame = source(layer)
        box = inner_box(frame)
        params = {"bbox": ",".join(map(str, box)), "limit": 10000}
        ours = get_json(client, f"/ogc/collections/{layer}/items", params=params)
        theirs = get_json(pg, f"/ogc/collections/{layer}/items", params=params)
        want = expected_ids(frame, box)
        assert theirs["numberMatched"] == ours["numberMatched"] == len(want) > 0, layer
        assert {f["id"] for f in theirs["features"]} == want
        by_id = {f["id"]: f for f in ours["features"]}
        for feature in theirs["features"]:
            mine = by_id[feature["id"]]
            for key, value in mine["properties"].items():
                assert feature["properties"][key] == pytest.approx(value), (layer, key)
            a, b = (
                shapely.geometry.shape(feature["geometry"]),
                shapely.geometry.shape(mine["geometry"]),
            )
            assert a.symmetric_difference(b).area < 1e-12 * max(b.area, 1e-9) + 1e-14
    # paging: numberMatched stays, the pages do not overlap
    page1 = get_json(pg, "/ogc/collections/stbhhx/items", params={"limit": 5})
    page2 = get_json(pg, "/ogc/collections/stbhhx/items", params={"limit": 5, "offset": 5})
    assert page1["numberMatched"] == len(source("stbhhx")) == page2["numberMatched"]
    assert not {f["id"] for f in page1["features"]} & {f["id"] for f in page2["features"]}
    one = get_json(pg, "/ogc/collections/hl/items/3")
    assert one["id"] == 3 and one["properties"]["BSM"] == source("hl").loc[3, "BSM"]
    assert pg.get("/ogc/collections/hl/items/99999").status_code == 404


def test_epsg_4490_in_lat_lon_order(
    pg_client: tuple[TestClient, dict[str, str]], source: Source
) -> None:
    pg, _ = pg_client
    r = pg.get("/ogc/collections/stbhhx/items", params={"limit": 3, "crs": f"{EPSG}4490"})
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{EPSG}4490>"
    for feature in r.json()["features"]:
        lat, lon = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"])).T
        assert (abs(lat - 29.35) < 0.55).all() and (abs(lon - 110.5) < 0.9).all()
    # a bbox given in EPSG:4490 (lat, lon) selects what the same box in CRS84 selects
    x0, y0, x1, y1 = inner_box(source("stbhhx"))
    plain = get_json(pg, "/ogc/collections/stbhhx/items", params={"bbox": f"{x0},{y0},{x1},{y1}"})
    lat_lon = get_json(
        pg,
        "/ogc/collections/stbhhx/items",
        params={"bbox": f"{y0},{x0},{y1},{x1}", "bbox-crs": f"{EPSG}4490"},
    )
    assert lat_lon["numberMatched"] == plain["numberMatched"] > 0


def test_internal_layers_stay_internal(
    pg_client: tuple[TestClient, dict[str, str]], source: Source
) -> None:
    pg, auth = pg_client
    unknown = pg.get("/ogc/collections/no_such_layer/items")
    for url in (
        "/ogc/collections/spxm",
        "/ogc/collections/spxm/items",
        "/ogc/collections/spxm/items/1",
    ):
        r = pg.get(url)
        assert r.status_code == 404 and "spxm" not in r.text, url
    assert pg.get("/ogc/collections/spxm/items").json() == unknown.json()
    assert "spxm" not in pg.get("/ogc/openapi").text
    assert pg.get("/internal/ogc/collections/spxm/items").status_code == 401
    internal = get_json(pg, "/internal/ogc/collections/spxm/items", headers=auth)
    assert internal["numberMatched"] == len(source("spxm"))


def test_a_release_whose_tables_are_gone_is_refused(
    db: Database, built_releases: Built, tmp_path: Path
) -> None:
    db = new_database(db, "onemap_refused")  # prune below drops every schema not kept here
    out = tmp_path / "tiles"
    (out / "releases").mkdir(parents=True)
    (out / "releases" / built_releases.first).symlink_to(
        built_releases.release(built_releases.first)
    )
    point_current(out, built_releases.first)
    # through the command this time
    assert main(["--tiles", str(out), "--dsn", db.libpq]) == 0
    new_id = os.readlink(out / "current").removeprefix("releases/")
    schemas = json.loads((out / "current" / "manifest.json").read_text("utf-8"))["postgis"]
    drop_schema(db, schemas["schemas"]["public"])
    with pytest.raises(ReleaseLoadError, match="collection"):
        load_release(out, f"releases/{new_id}", outputs=RELEASE_OUTPUTS)
    # and a schema whose release is gone is dropped by prune
    (out / "releases" / new_id).rename(tmp_path / "gone")
    assert prune_schemas(out, db) == [schemas["schemas"]["internal"]]


def test_connection_strings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = Database.from_dsn("postgresql://onemap@db.example:5433/plan")
    assert (db.host, db.port, db.dbname, db.user) == ("db.example", 5433, "plan", "onemap")
    assert Database.from_dsn("dbname=plan user=u").host == "localhost"
    with pytest.raises(ReleaseError, match="PGPASSWORD"):
        Database.from_dsn("host=db dbname=plan user=u password=secret")
    with pytest.raises(ReleaseError, match="dbname and user"):
        Database.from_dsn("host=db")
    dsn = "host=db dbname=plan user=u password=secret"
    assert main(["--tiles", str(tmp_path), "--dsn", dsn]) == 2
    err = capsys.readouterr().err
    assert "PGPASSWORD" in err and "secret" not in err
