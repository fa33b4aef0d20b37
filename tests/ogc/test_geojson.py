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
