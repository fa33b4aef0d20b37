"""Kept releases served by id (/releases/{id}/…): the right release's bodies, immutable caching,
the token for the internal audience, and a 404 naming /releases for an id not kept here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from publish.server.settings import Settings
from tests.server.helpers import Built, Probe, TestClient, decode, make_client

IMMUTABLE = "max-age=31536000, immutable"


def test_a_kept_release_serves_its_own_documents_and_tiles(
    client: TestClient, built_releases: Built, probe: Probe
) -> None:
    kept = built_releases.second  # current is the first
    r = client.get(f"/releases/{kept}/tiles/public.json")
    assert r.status_code == 200
    assert r.headers["cache-control"] == f"public, {IMMUTABLE}"
    assert r.headers["x-onemap-release"] == kept
    tiles = r.json()["tiles"]
    assert tiles == [f"http://testserver/releases/{kept}/tiles/public/{{z}}/{{x}}/{{y}}.mvt"]
    assert r.json()["onemap:release"] == kept

    z, x, y = probe.public
    r = client.get(f"/releases/{kept}/tiles/public/{z}/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["x-onemap-release"] == kept
    assert r.headers["cache-control"] == f"public, {IMMUTABLE}"
    assert set(decode(r.content, gzipped=False)) <= {
        "xzq_xian",
        "stbhhx",
        "czkfbj",
        "hl",
        "labels",
    } and decode(r.content, gzipped=False)

    style = client.get(f"/releases/{kept}/styles/public.json")
    assert style.status_code == 200 and style.headers["cache-control"] == f"public, {IMMUTABLE}"
    sources = style.json()["sources"]
    assert {s["url"] for s in sources.values() if "url" in s} == {
        f"http://testserver/releases/{kept}/tiles/public.json"
    }
    assert style.json()["glyphs"].startswith("http://testserver/fonts/")

    # the current release's own documents name the current release's versioned URLs
    current = client.get("/tiles/public.json")
    assert current.headers["x-onemap-release"] == built_releases.first
    assert current.json()["tiles"][0].startswith(
        f"http://testserver/releases/{built_releases.first}/tiles/public/"
    )
    assert "immutable" not in current.headers["cache-control"]


def test_the_current_release_by_id_is_the_same_release(
    client: TestClient, built_releases: Built
) -> None:
    r = client.get(f"/releases/{built_releases.first}/tiles/public.json")
    assert r.status_code == 200 and r.headers["x-onemap-release"] == built_releases.first
    assert r.json()["tiles"][0].startswith(f"http://testserver/releases/{built_releases.first}/")


def test_internal_by_id_needs_the_token(
    client: TestClient, built_releases: Built, probe: Probe, auth: dict[str, str]
) -> None:
    kept = built_releases.second
    z, x, y = probe.internal_only
    for path in (
        f"/releases/{kept}/tiles/internal.json",
        f"/releases/{kept}/styles/internal.json",
        f"/releases/{kept}/tiles/internal/{z}/{x}/{y}.mvt",
    ):
        assert client.get(path).status_code == 401, path
        r = client.get(path, headers=auth)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == f"private, {IMMUTABLE}", path
    tile = client.get(f"/releases/{kept}/tiles/internal/{z}/{x}/{y}.mvt", headers=auth)
    assert "spxm" in decode(tile.content, gzipped=False)


@pytest.mark.parametrize(
    "release",
    ["20200101T000000Z-deadbeef", "not-a-release", "..x", "current", "%2e%2e"],
)
def test_an_unknown_release_is_a_404_naming_the_list(client: TestClient, release: str) -> None:
    for path in (
        f"/releases/{release}/tiles/public.json",
        f"/releases/{release}/styles/public.json",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "/releases" in r.json()["description"]
        assert "Traceback" not in r.text


def test_a_pruned_release_is_a_404(
    built_releases: Built, tmp_path: Path, settings: Settings
) -> None:
    # a folder of its own with both releases copied, then the kept one pruned
    out = tmp_path / "own"
    for rid in (built_releases.first, built_releases.second):
        shutil.copytree(built_releases.release(rid), out / "releases" / rid, symlinks=True)
    (out / "current").symlink_to(f"releases/{built_releases.first}")
    own = Settings(**{**settings.__dict__, "tiles_dir": out})
    with make_client(own) as client:
        kept = built_releases.second
        assert client.get(f"/releases/{kept}/tiles/public.json").status_code == 200
        shutil.rmtree(out / "releases" / kept)
        r = client.get(f"/releases/{kept}/tiles/public.json")
        assert r.status_code == 404 and kept in r.json()["description"]
