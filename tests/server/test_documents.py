"""TileJSON, styles and /healthz."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from publish.server.settings import Settings
from publish.tiles.archive import Archive
from tests.server.helpers import Built, TestClient, make_client


def test_tilejson_public(client: TestClient, built_releases: Built) -> None:
    r = client.get("/tiles/public.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["tilejson"] == "3.0.0"
    rid = built_releases.first
    assert doc["tiles"] == [f"http://testserver/releases/{rid}/tiles/public/{{z}}/{{x}}/{{y}}.mvt"]
    with Archive(built_releases.archive_path(built_releases.first, "public")) as archive:
        assert doc["minzoom"] == archive.minzoom and doc["maxzoom"] == archive.maxzoom
        assert doc["bounds"] == list(archive.bounds)
        meta_layers = archive.metadata()["vector_layers"]
    ids = [layer["id"] for layer in doc["vector_layers"]]
    assert ids == [layer["id"] for layer in meta_layers]
    assert "spxm" not in ids and {"xzq_xian", "hl"} <= set(ids)
    assert all("fields" in layer for layer in doc["vector_layers"])
    lon, lat, zoom = doc["center"]
    west, south, east, north = doc["bounds"]
    assert west <= lon <= east and south <= lat <= north
    assert doc["minzoom"] <= zoom <= doc["maxzoom"]


def test_tilejson_internal_and_etag(
    client: TestClient, built_releases: Built, auth: dict[str, str]
) -> None:
    r = client.get("/tiles/internal.json", headers=auth)
    assert r.status_code == 200
    doc = r.json()
    rid = built_releases.first
    assert doc["tiles"] == [
        f"http://testserver/releases/{rid}/tiles/internal/{{z}}/{{x}}/{{y}}.mvt"
    ]
    assert "spxm" in [layer["id"] for layer in doc["vector_layers"]]
    assert r.headers["cache-control"] == "private, no-cache"
    again = client.get("/tiles/internal.json", headers={**auth, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_tilejson_url_follows_the_request(settings: Settings, built_releases: Built) -> None:
    """Without a public URL, links name the host the request used, if it is an allowed one."""
    allowed = replace(settings, allowed_hosts=("onemap.example",))
    with make_client(allowed) as client:
        r = client.get("http://onemap.example:8080/tiles/public.json")
    here = f"http://onemap.example:8080/releases/{built_releases.first}"
    assert r.json()["tiles"] == [f"{here}/tiles/public/{{z}}/{{x}}/{{y}}.mvt"]


def test_public_url_setting_overrides(settings: Settings, built_releases: Built) -> None:
    fixed = Settings(**{**settings.__dict__, "public_url": "https://map.example.gov.cn/"})
    with make_client(fixed) as client:
        tj = client.get("/tiles/public.json").json()
        style = client.get("/styles/public.json").json()
    here = f"https://map.example.gov.cn/releases/{built_releases.first}"
    assert tj["tiles"] == [f"{here}/tiles/public/{{z}}/{{x}}/{{y}}.mvt"]
    assert style["sources"]["plan"]["url"] == f"{here}/tiles/public.json"
    assert style["glyphs"].startswith("https://map.example.gov.cn/fonts/")


def test_style_source_points_at_this_servers_tilejson(
    client: TestClient, built_releases: Built, auth: dict[str, str]
) -> None:
    for audience, headers in (("public", {}), ("internal", auth)):
        stored = json.loads(
            (
                built_releases.release(built_releases.first) / "styles" / f"{audience}.json"
            ).read_text(encoding="utf-8")
        )
        r = client.get(f"/styles/{audience}.json", headers=headers)
        assert r.status_code == 200
        style = r.json()
        assert style["version"] == 8
        urls = [s["url"] for s in style["sources"].values() if "url" in s]
        rid = built_releases.first
        assert urls == [f"http://testserver/releases/{rid}/tiles/{audience}.json"]
        assert [la["id"] for la in style["layers"]] == [la["id"] for la in stored["layers"]]
        tilejson = client.get(urls[0], headers=headers)
        assert tilejson.status_code == 200
        drawn = {la["source-layer"] for la in style["layers"] if "source-layer" in la}
        assert drawn <= {la["id"] for la in tilejson.json()["vector_layers"]}
        if audience == "public":
            assert "spxm" not in r.text


def test_healthz(client: TestClient, built_releases: Built) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["release"] == built_releases.first
    assert body["loaded_at"] and body["last_error"] is None
    assert r.headers["cache-control"] == "no-store"


def test_before_any_release_everything_is_503(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with make_client(Settings(tiles_dir=empty)) as client:
        health = client.get("/healthz")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "unavailable" and body["release"] is None
        assert body["last_error"] == "no release is published yet"
        for url in ("/tiles/public/0/0/0.mvt", "/tiles/public.json", "/styles/public.json"):
            r = client.get(url)
            assert r.status_code == 503, url
            assert r.json()["code"] == "NoRelease"
            assert "retry-after" in r.headers
