"""The OpenAPI documents at /ogc/openapi and /internal/ogc/openapi: only what the server answers,
self-contained (no `$ref` leaves the document), valid OpenAPI 3.0, responses as served."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Route

from publish.ogc.openapi import OpenApiError, answers, served_document
from tests.server.helpers import TestClient

FEATURES = "https://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/ogcapi-features-1.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _documents(client: TestClient, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for mount, headers in (("/ogc", {}), ("/internal/ogc", auth)):
        r = client.get(f"{mount}/openapi", headers=headers)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
        out[mount] = r.json()
    return out


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for k, v in node.items() if k != "$ref" for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return _resolve(doc, node["$ref"]) if "$ref" in node else node


def test_documents_are_self_contained_and_valid(client: TestClient, auth: dict[str, str]) -> None:
    from pygeoapi.openapi import validate_openapi_document  # its OpenAPI 3.0 JSON Schema

    for mount, doc in _documents(client, auth).items():
        refs = _refs(doc)
        assert len(refs) > 300, mount  # pygeoapi's ~400 references, now all local
        assert all(ref.startswith("#/components/") for ref in refs), mount
        for ref in set(refs):
            assert isinstance(_resolve(doc, ref), dict), ref
        assert "schemas.opengis.net" not in str(_refs(doc))
        assert validate_openapi_document(doc)
        # nothing left over: every component is referred to
        components = {f"#/components/{k}/{n}" for k, v in doc["components"].items() for n in v}
        assert components == set(refs), mount


def test_documents_list_only_what_is_served(client: TestClient, auth: dict[str, str]) -> None:
    for mount, doc in _documents(client, auth).items():
        headers = auth if mount == "/internal/ogc" else {}
        assert doc["servers"][0]["url"] == f"http://testserver{mount}"
        assert not [p for p in doc["paths"] if p.startswith("/jobs")]
        for added in ("/TileMatrixSets", "/TileMatrixSets/{tileMatrixSetId}"):
            assert added in doc["paths"]
        for suffix in ("", "/metadata"):  # served by pygeoapi, left out of its document
            assert f"/collections/hl/tiles/{{tileMatrixSetId}}{suffix}" in doc["paths"]
            r = client.get(f"{mount}/collections/hl/tiles/WebMercatorQuad{suffix}", headers=headers)
            assert r.status_code == 200 and r.json()["dataType"] == "vector"
        operations = [(p, m) for p, item in doc["paths"].items() for m in item if m in METHODS]
        assert {m for _, m in operations} == {"get", "post"}
        assert ("/processes/site-check/execution", "post") in operations
        for path, method in operations:
            if "{" in path:
                continue
            if method == "get":
                r = client.get(mount + path, headers=headers)
                assert r.status_code == 200, (mount, path, r.text)
            else:  # an empty execute request: refused as such, not as an unknown route
                r = client.post(mount + path, headers=headers, json={})
                assert r.status_code == 400, (mount, path, r.text)
        # the OPTIONS pygeoapi documents are not routed: that is why they are not listed
        r = client.options(mount + "/collections/hl/items", headers=headers)
        assert r.status_code == 405


def test_responses_are_described_as_served(client: TestClient, auth: dict[str, str]) -> None:
    doc = _documents(client, auth)["/ogc"]

    def response(path: str, status: str = "200") -> dict[str, Any]:
        found = doc["paths"][path]["get"]["responses"][status]
        return _resolve(doc, found["$ref"]) if "$ref" in found else found

    def schema(path: str, media: str) -> dict[str, Any]:
        content = response(path)["content"][media]["schema"]
        return _resolve(doc, content["$ref"]) if "$ref" in content else content

    assert schema("/conformance", "application/json")["required"] == ["conformsTo"]
    assert schema("/collections", "application/json")["required"] == ["links", "collections"]
    assert "application/geo+json" in response("/collections/hl/items")["content"]
    assert "application/geo+json" in response("/collections/hl/items/{featureId}")["content"]
    tiles = schema("/collections/hl/tiles", "application/json")
    assert tiles["required"] == ["tilesets"]
    served = client.get("/ogc/collections/hl/tiles").json()
    assert served["tilesets"] and {"dataType", "links", "crs"} <= set(served["tilesets"][0])
    queryables = response("/collections/hl/queryables")["content"]
    assert "application/schema+json" in queryables
    r = client.get("/ogc/collections/hl/queryables")
    assert r.headers["content-type"] == "application/schema+json"


# -- served_document on documents made here ---------------------------------------------------


async def _nothing(request: Any) -> Any:
    raise AssertionError("never called")


ROUTES = [
    Route("/items/{item_id}", _nothing, methods=["GET", "HEAD"]),
    Route("/run", _nothing, methods=["POST"]),
]


def test_answers_follows_the_routes() -> None:
    assert answers(ROUTES, "/items/{featureId}", "get")
    assert answers(ROUTES, "/items/{featureId}", "head")
    assert not answers(ROUTES, "/items/{featureId}", "options")
    assert not answers(ROUTES, "/items", "get")
    assert answers(ROUTES, "/run", "post") and not answers(ROUTES, "/run", "get")


def test_served_document_cuts_bundles_and_prunes() -> None:
    feature = {"$ref": f"{FEATURES}#/components/responses/Feature"}
    doc = {
        "openapi": "3.0.2",
        "tags": [{"name": "kept"}, {"name": "jobs"}],
        "paths": {
            "/items/{featureId}": {
                "get": {"tags": ["kept"], "responses": {"200": feature}},
                "options": {"tags": ["kept"], "responses": {"200": {"description": "x"}}},
            },
            "/jobs": {"get": {"tags": ["jobs"], "responses": {"200": {"$ref": "#/x/y"}}}},
        },
        "components": {"schemas": {"unused": {"type": "string"}}},
    }
    out = served_document(doc, ROUTES)
    assert list(out["paths"]) == ["/items/{featureId}"]
    assert list(out["paths"]["/items/{featureId}"]) == ["get"]
    assert out["tags"] == [{"name": "kept"}]
    response = out["paths"]["/items/{featureId}"]["get"]["responses"]["200"]
    assert response == {"$ref": "#/components/responses/features-1.Feature"}
    schemas = out["components"]["schemas"]
    assert "unused" not in schemas
    # the geometry schemas refer to each other (a geometry collection holds geometries)
    collection = schemas["features-1.geometrycollectionGeoJSON"]
    assert collection["properties"]["geometries"]["items"] == {
        "$ref": "#/components/schemas/features-1.geometryGeoJSON"
    }
    assert all(r.startswith("#/components/") for r in _refs(out))
    assert doc["paths"]["/jobs"]  # the input is left as it was


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("https://example.com/elsewhere.yaml#/components/schemas/x", "which is not shipped"),
        (f"{FEATURES}#/components/schemas/noSuchSchema", "does not exist"),
        (
            "https://schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/nothing.yaml",
            "which is not shipped",
        ),
    ],
)
def test_an_unshipped_reference_is_an_error(ref: str, message: str) -> None:
    doc = {"paths": {"/run": {"post": {"responses": {"200": {"$ref": ref}}}}}}
    with pytest.raises(OpenApiError) as raised:
        served_document(doc, ROUTES)
    assert message in str(raised.value) and ref.split("#")[0] in str(raised.value)
