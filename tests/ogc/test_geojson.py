"""Items go out as GeoJSON, application/geo+json (OGC API - Features, /req/geojson/content); the
other formats and the other documents keep their media types."""

from __future__ import annotations

from tests.server.helpers import TestClient


def test_items_are_geojson(client: TestClient) -> None:
    for path in ("/ogc/collections/hl/items?limit=1", "/ogc/collections/hl/items/1"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/geo+json"
        assert r.json()["type"] in ("FeatureCollection", "Feature")
        assert client.get(path, params={"f": "json"}).headers["content-type"] == (
            "application/geo+json"
        )
        html = client.get(path, params={"f": "html"})
        assert html.headers["content-type"].startswith("text/html")
        ld = client.get(path, params={"f": "jsonld"})
        assert ld.headers["content-type"] == "application/ld+json"
    missing = client.get("/ogc/collections/hl/items/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    bad = client.get("/ogc/collections/hl/items?limit=0")
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/json"
    for path in ("/ogc/collections/hl", "/ogc/collections", "/ogc/"):
        assert client.get(path).headers["content-type"] == "application/json"


def test_every_format_of_a_long_page_carries_its_geometries(client: TestClient) -> None:
    """A page long enough for coordinate arrays (publish.ogc.geometry.ARRAYS_FROM) gets
    them only in compact GeoJSON: pygeoapi's HTML, JSON-LD and CSV writers read the features as
    objects."""
    path = "/ogc/collections/stbhhx/items"
    plain = client.get(path, params={"limit": 20}).json()
    assert plain["numberReturned"] == 20
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in plain["features"])
    html = client.get(path, params={"limit": 20, "f": "html"})
    assert html.status_code == 200 and "MultiPolygon" in html.text
    ld = client.get(path, params={"limit": 20, "f": "jsonld"})
    assert ld.status_code == 200 and len(ld.json()["features"]) == 20
    csv = client.get(path, params={"limit": 20, "f": "csv"})
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 21  # header + 20


def test_only_answers_without_their_time_have_an_etag(client: TestClient) -> None:
    """GeoJSON items pages carry the time they were made (timeStamp): they differ on every
    request, so they have no ETag; a single item and the HTML, JSON-LD and CSV pages (no time)
    keep theirs, and a 304 for it."""
    items = "/ogc/collections/hl/items?limit=2"
    for params in ({"f": "json"}, {}):
        r = client.get(items, params=params)
        assert r.status_code == 200 and "etag" not in r.headers
        assert client.get(items, params=params).content != r.content  # its own time
    for path, params in (
        (items, {"f": "html"}),
        (items, {"f": "jsonld"}),
        (items, {"f": "csv"}),
        ("/ogc/collections/hl/items/1", {}),
    ):
        r = client.get(path, params=params)
        again = client.get(path, params=params, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304, (path, params)
