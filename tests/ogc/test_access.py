"""Audiences on the OGC API: internal ids do not exist on public paths; the OGC API follows the
release being served; a release whose OGC configuration would leak is refused."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from publish.server.settings import Settings
from tests.ogc.conftest import INTERNAL_ONLY
from tests.server.helpers import Built, TestClient, make_client, point_current

UNKNOWN = "no_such_layer"
PATHS = [
    "/ogc/collections/{id}",
    "/ogc/collections/{id}/items",
    "/ogc/collections/{id}/items/1",
    "/ogc/collections/{id}/queryables",
    "/ogc/collections/{id}/schema",
    "/ogc/collections/{id}/tiles",
    "/ogc/collections/{id}/tiles/WebMercatorQuad",
    "/ogc/collections/{id}/tiles/WebMercatorQuad/metadata",
    "/ogc/collections/{id}/tiles/WebMercatorQuad/10/419/837",
    "/ogc/collections/{id}/items?f=html",
    "/ogc/collections/{id}?f=html",
]


def test_internal_ids_do_not_exist_on_public_paths(client: TestClient) -> None:
    for template in PATHS:
        unknown = client.get(template.format(id=UNKNOWN))
        assert unknown.status_code == 404, template
        for layer in INTERNAL_ONLY:
            r = client.get(template.format(id=layer))
            assert (r.status_code, r.text) == (unknown.status_code, unknown.text), template
            assert layer not in r.text
    for path in ("/ogc/", "/ogc/collections", "/ogc/openapi", "/ogc/collections?f=html"):
        r = client.get(path)
        assert r.status_code == 200
        assert all(layer not in r.text for layer in INTERNAL_ONLY), path
        assert "/internal" not in r.text


def test_internal_mount_needs_a_token(client: TestClient, auth: dict[str, str]) -> None:
    for path in ("/internal/ogc", "/internal/ogc/", "/internal/ogc/collections/spxm/items"):
        assert client.get(path, follow_redirects=False).status_code == 401
    r = client.get("/internal/ogc", headers=auth, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "http://testserver/internal/ogc/"
    items = client.get("/internal/ogc/collections/spxm/items?limit=2", headers=auth)
    assert items.status_code == 200 and items.json()["numberReturned"] == 2


def test_ogc_follows_the_release_switch(
    client: TestClient, tiles_dir: Path, built_releases: Built, settings: Settings
) -> None:
    first = client.get("/ogc/collections/hl/items?limit=1")
    assert first.headers["x-onemap-release"] == built_releases.first
    point_current(tiles_dir, built_releases.second)
    deadline = time.monotonic() + settings.reload_interval_s + 3
    while client.get("/healthz").json()["release"] != built_releases.second:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    after = client.get("/ogc/collections/hl/items?limit=1")
    assert after.status_code == 200
    assert after.headers["x-onemap-release"] == built_releases.second
    assert after.json()["numberMatched"] == first.json()["numberMatched"]


def _leaky_copy(tiles_dir: Path, built: Built) -> None:
    """A copy of the first release whose public pygeoapi config also publishes spxm."""
    root = tiles_dir / "broken" / built.first
    shutil.copytree(built.release(built.first), root)
    path = root / "ogc" / "public.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    internal = yaml.safe_load((root / "ogc" / "internal.yml").read_text(encoding="utf-8"))
    doc["resources"]["spxm"] = internal["resources"]["spxm"]
    text = yaml.safe_dump(doc, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["ogc/public.yml"]["bytes"] = len(text.encode())
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    tmp = tiles_dir / ".current.tmp"
    os.symlink(f"broken/{built.first}", tmp)
    os.replace(tmp, tiles_dir / "current")


def test_a_release_publishing_an_internal_collection_is_refused(
    tiles_dir: Path, built_releases: Built, settings: Settings, auth: dict[str, str]
) -> None:
    _leaky_copy(tiles_dir, built_releases)
    with make_client(settings) as c:
        health = c.get("/healthz")
        assert health.status_code == 503
        assert "refused" in health.json()["last_error"]
        assert "spxm" not in health.text  # the public status does not say which layer
        detail = c.get("/internal/healthz", headers=auth).json()
        assert "spxm" in detail["last_error"]
        assert c.get("/ogc/collections/spxm").status_code == 503


@pytest.mark.parametrize("path", ["/ogc/collections/", "/ogc/../internal/ogc/collections"])
def test_path_tricks(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (200, 401, 404)
    assert "spxm" not in r.text
