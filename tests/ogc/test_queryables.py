"""Queryables (OGC API – Features Part 3) and the filter conformance classes, on the session's full
release: the published fields with their types, the national codes and names on land-use layers,
internal layers only on /internal/ogc."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pytest

from publish.ogc.routes import FILTER_CLASSES
from publish.standards import land_use_classes
from tests.server.helpers import TestClient

Client = tuple[TestClient, dict[str, str]]
Table = Callable[..., gpd.GeoDataFrame]
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
FEATURES_3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"


def _queryables(client: TestClient, path: str, **headers: str) -> dict:  # type: ignore[type-arg]
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/schema+json")
    body: dict = r.json()  # type: ignore[type-arg]
    return body


@pytest.mark.parametrize("layer", ["ydyh", "dltb", "cun", "stbhhx"])
def test_queryables_are_the_published_fields_with_their_types(
    full_client: Client, feature_table: Table, layer: str
) -> None:
    client, _ = full_client
    doc = _queryables(client, f"/ogc/collections/{layer}/queryables")
    frame = feature_table(layer)
    properties = doc["properties"]
    assert set(properties) == {*frame.columns.drop("geometry"), "geometry"}
    assert properties["geometry"]["x-ogc-role"] == "primary-geometry"
    for name in frame.columns.drop("geometry"):
        kind = frame[name].dtype.kind
        expected = {"i": "integer", "f": "number", "O": "string"}[kind]
        assert properties[name]["type"] == expected, name


@pytest.mark.parametrize(("layer", "field"), [("ydyh", "YDYHFLDM"), ("dltb", "DLBM")])
def test_code_fields_list_the_national_codes_and_names(
    full_client: Client, feature_table: Table, layer: str, field: str
) -> None:
    client, _ = full_client
    schema = _queryables(client, f"/ogc/collections/{layer}/queryables")["properties"][field]
    classes = land_use_classes()
    assert set(schema["enum"]) == set(classes)
    names = {item["const"]: item["title"] for item in schema["oneOf"]}
    assert names["0101"] == "水田" and names == {c: k.name for c, k in classes.items()}
    assert set(feature_table(layer)[field]) <= set(schema["enum"])  # the layer's codes are in it


def test_fields_that_are_not_national_codes_have_no_list(full_client: Client) -> None:
    client, _ = full_client
    for layer, field in (("ghfq", "GHFQDM"), ("stbhhx", "HXMC")):
        schema = _queryables(client, f"/ogc/collections/{layer}/queryables")["properties"][field]
        assert "enum" not in schema and "oneOf" not in schema


def test_internal_queryables_only_on_the_internal_api(full_client: Client) -> None:
    client, headers = full_client
    assert client.get("/ogc/collections/spxm/queryables").status_code == 404
    assert client.get("/internal/ogc/collections/spxm/queryables").status_code == 401
    doc = _queryables(client, "/internal/ogc/collections/spxm/queryables", **headers)
    assert "XMMC" in doc["properties"]
    public = _queryables(client, "/ogc/collections/ydyh/queryables")
    assert public["$id"].startswith("http://testserver/ogc/")


def test_every_queryable_can_filter(full_client: Client) -> None:
    """What the queryables list is what a filter accepts (the id's type too)."""
    client, _ = full_client
    doc = _queryables(client, "/ogc/collections/dltb/queryables")
    for name, schema in doc["properties"].items():
        if name == "geometry":
            text = "S_INTERSECTS(geometry, POINT(110.5 29.3))"
        elif schema["type"] == "string":
            text = f"{name} IS NOT NULL AND {name} <> 'x'"
        else:
            text = f"{name} >= 0"
        r = client.get("/ogc/collections/dltb/items", params={"filter": text, "limit": 1})
        assert r.status_code == 200, (name, r.text)


def test_conformance_declares_exactly_the_filter_classes_served(full_client: Client) -> None:
    client, headers = full_client
    for path in ("/ogc/conformance", "/internal/ogc/conformance"):
        r = client.get(path, headers=headers)
        assert r.status_code == 200
        declared = set(r.json()["conformsTo"])
        filtering = {c for c in declared if c.startswith((CQL2, FEATURES_3))}
        assert filtering == {
            *FILTER_CLASSES,
            FEATURES_3 + "queryables",
            FEATURES_3 + "queryables-query-parameters",
        }
    assert {c.removeprefix(CQL2) for c in FILTER_CLASSES if c.startswith(CQL2)} == {
        "cql2-text",
        "cql2-json",
        "basic-cql2",
        "advanced-comparison-operators",
        "basic-spatial-functions",
        "basic-spatial-functions-plus",
        "spatial-functions",
    }
    again = client.get("/ogc/conformance").json()["conformsTo"]
    assert len(again) == len(set(again))  # declared once, on every call


def test_owslib_reads_the_queryables(server: tuple[str, str]) -> None:
    from owslib.ogcapi.features import Features

    base, _token = server
    queryables = Features(f"{base}/ogc/").collection_queryables("stbhhx")
    assert {"HXMC", "MJ", "geometry"} <= set(queryables["properties"])
    assert queryables["properties"]["MJ"]["type"] == "number"


@pytest.mark.parametrize(
    ("language", "title"), [(None, "面积"), ("en-US", "Area"), ("zh-TW", "面积"), ("fr-FR", "面积")]
)
def test_field_titles_follow_the_standard_and_the_language(
    full_client: Client, language: str | None, title: str
) -> None:
    client, _ = full_client
    headers = {"Accept-Language": language} if language else {}
    properties = _queryables(client, "/ogc/collections/dltb/queryables", **headers)["properties"]
    assert properties["MJ"]["title"] == title
    assert properties["area_m2"]["title"] == "area_m2"  # not in the standard: its code


def test_filter_classes_are_not_declared_for_pygeoapi_s_postgresql_provider() -> None:
    """Collections on pygeoapi's stock PostgreSQL provider (PostGIS releases made before ours
    took its place), which this server does not parse CQL2 for: no filter class is declared
    there. Ours (publish.ogc.postgis_features) is declared as the GeoPackage provider is."""
    from types import SimpleNamespace

    from publish.ogc.config import FEATURE_PROVIDER
    from publish.ogc.postgis import POSTGRESQL_PROVIDER, STOCK_POSTGRESQL_PROVIDER
    from publish.ogc.routes import _filters_served

    def ctx(*names: str) -> Any:
        resources = {
            f"c{i}": {"type": "collection", "providers": [{"type": "feature", "name": name}]}
            for i, name in enumerate(names)
        }
        return SimpleNamespace(service=SimpleNamespace(config={"resources": resources}))

    assert _filters_served(ctx(FEATURE_PROVIDER, FEATURE_PROVIDER))
    assert _filters_served(ctx(POSTGRESQL_PROVIDER, FEATURE_PROVIDER))
    assert not _filters_served(ctx(STOCK_POSTGRESQL_PROVIDER))
    assert not _filters_served(ctx(FEATURE_PROVIDER, STOCK_POSTGRESQL_PROVIDER))
    assert not _filters_served(ctx())
