"""Query parameters and bodies that were 500s or were accepted when they should not be
(issue 16): each is now a 400 naming the problem, or the right 200/404."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

ITEMS = "/ogc/collections/stbhhx/items"
EXECUTE = "/ogc/processes/site-check/execution"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("sortby=", "sortby"),
        ("sortby=-", "sortby"),
        ("sortby=BSM,,MJ", "sortby"),
        ("sortby=" + ",".join(["BSM"] * 2000), "sortby"),
        ("offset=9223372036854775808", "offset"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("limit=99999999999999999999999", "limit"),
        ("limit=0", "limit"),
        ("bbox=nan,29,111,30", "bbox"),
        ("bbox=110,29,inf,30", "bbox"),
        ("bbox=1e309,29,111,30", "bbox"),
        ("bbox=110,29,111", "bbox"),
        ("skipGeometry=maybe", "skipGeometry"),
        ("skipGeometry=true&skipGeometry=perhaps", "skipGeometry"),
    ],
)
def test_bad_items_parameter_is_a_400_naming_it(
    client: TestClient, auth: dict[str, str], query: str, named: str
) -> None:
    for mount in ("/ogc", "/internal/ogc"):
        r = client.get(f"{ITEMS}?{query}".replace("/ogc", mount), headers=auth)
        assert r.status_code == 400, r.text[:200]
        assert named in r.json()["description"]


@pytest.mark.parametrize(
    "query",
    ["sortby=-MJ,BSM", "offset=9223372036854775807", "skipGeometry=TRUE", "skipGeometry=false"],
)
def test_good_items_parameters(client: TestClient, query: str) -> None:
    r = client.get(f"{ITEMS}?{query}&limit=3")
    assert r.status_code == 200, r.text[:200]
    assert r.headers["content-type"].split(";")[0] == "application/geo+json"


def test_offset_past_the_end_is_an_empty_page(client: TestClient) -> None:
    page = client.get(f"{ITEMS}?offset=9223372036854775807").json()
    assert page["features"] == [] and page["numberMatched"] > 0


def test_sortby_is_applied(client: TestClient) -> None:
    mj = [
        f["properties"]["MJ"] for f in client.get(f"{ITEMS}?sortby=-MJ&limit=5").json()["features"]
    ]
    assert mj == sorted(mj, reverse=True)


@pytest.mark.parametrize("item", ["9223372036854775808", "-9223372036854775809", "1" * 40])
def test_huge_item_id_is_404(client: TestClient, item: str) -> None:
    r = client.get(f"/ogc/collections/stbhhx/items/{item}")
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"[1,2,3]", "array"),
        (b'"x"', "string"),
        (b"123", "number"),
        (b"null", "null"),
        (b"true", "boolean"),
        (b'{"inputs": [1]}', "inputs"),
        (b'{"inputs": {"geometry": "x"', "not JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * 100_000, "nested"),
        (b'{"inputs":' * 100_000, "nested"),
    ],
)
@pytest.mark.parametrize("mount", ["/ogc", "/internal/ogc"])
def test_site_check_body_that_is_not_an_execute_request(
    client: TestClient, auth: dict[str, str], mount: str, body: bytes, named: str
) -> None:
    r = client.post(
        EXECUTE.replace("/ogc", mount),
        content=body,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text[:200]
    assert named in r.json()["description"]


def test_body_over_the_limit_is_413(client: TestClient) -> None:
    from publish.ogc.routes import MAX_EXECUTE_BODY

    big = b'{"inputs": {"x": "' + b"a" * MAX_EXECUTE_BODY + b'"}}'
    r = client.post(EXECUTE, content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "PayloadTooLarge"
    announced = client.post(
        EXECUTE,
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(10**12)},
    )
    assert announced.status_code in (400, 413)


def test_callbacks_are_refused(client: TestClient) -> None:
    """pygeoapi would POST the result to any `subscriber` URL the client gives (SSRF)."""
    body = {
        "inputs": {"geometry": {"type": "Point", "coordinates": [110.48, 29.13]}, "buffer_m": 100},
        "subscriber": {"successUri": "http://127.0.0.1:9/x"},
    }
    r = client.post(EXECUTE, json=body)
    assert r.status_code == 400 and "subscriber" in r.json()["description"]
    conformance = client.get("/ogc/conformance?f=json").json()["conformsTo"]
    assert not [c for c in conformance if c.endswith(("/conf/callback", "/create-replace-delete"))]


def test_error_bodies_carry_type(client: TestClient) -> None:
    for r in (
        client.post(EXECUTE, json={"inputs": {}}),  # pygeoapi's process error body
        client.get(f"{ITEMS}?bbox=nan,1,2,3"),  # ours
        client.get("/ogc/collections/nowhere"),  # pygeoapi's 404
    ):
        assert r.status_code >= 400
        doc = r.json()
        assert doc["type"] and doc["code"] and doc["description"], doc
