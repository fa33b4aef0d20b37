"""The leak test: every internal layer id, through every public endpoint, is never seen.

The internal ids come from the release's manifest (every layer whose access is not public), not
from a list in the test. Public documents must not mention them; public tiles must not hold them
at any zoom where the internal archive has them; every public path that names an internal id
answers exactly like an id nobody ever used; every internal path asks for a token.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from publish.release.manifest import read_manifest
from publish.tiles.archive import Archive
from tests.server.helpers import Built, Probe, TestClient, decode

UNKNOWN = "no_such_layer"
COLLECTION_PATHS = (
    "",
    "?f=html",
    "/items",
    "/items?f=html",
    "/items?limit=1&bbox=100,20,120,40",
    "/items/1",
    "/queryables",
    "/schema",
    "/tiles",
    "/tiles/WebMercatorQuad",
    "/tiles/WebMercatorQuad/metadata",
    "/tiles/WebMercatorQuad/10/419/837",
    "/tiles/WebMercatorQuad/0/0/0",
)
TILES_PER_ZOOM = 6


@pytest.fixture(scope="module")
def layers(built_releases: Built) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(internal ids, public ids) of the first release, from its manifest."""
    manifest = read_manifest(built_releases.release(built_releases.first))
    access = {lid: (info or {}).get("access") for lid, info in manifest["layers"].items()}
    internal = tuple(sorted(lid for lid, a in access.items() if a != "public"))
    public = tuple(sorted(lid for lid, a in access.items() if a == "public"))
    assert internal and public  # the test means nothing otherwise
    assert set(internal) <= set(manifest["audiences"]["internal"]["layers"])
    return internal, public


def assert_clean(internal: tuple[str, ...], what: str, text: str, headers: object = "") -> None:
    for lid in internal:
        assert lid not in text, f"{what} mentions internal layer {lid}"
        assert lid not in str(headers), f"{what}'s headers mention internal layer {lid}"


def internal_tiles(built: Built, internal: tuple[str, ...]) -> Iterator[tuple[int, int, int]]:
    """Up to TILES_PER_ZOOM tiles a zoom where the internal archive holds an internal layer."""
    per_zoom: dict[int, int] = {}
    with Archive(built.archive_path(built.first, "internal")) as archive:
        for z, x, y, data in archive.iter_tiles():
            if per_zoom.get(z, 0) >= TILES_PER_ZOOM:
                continue
            if set(decode(data)) & set(internal):
                per_zoom[z] = per_zoom.get(z, 0) + 1
                yield z, x, y


def test_public_tiles_never_hold_an_internal_layer(
    client: TestClient, built_releases: Built, layers: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    internal, public = layers
    manifest = read_manifest(built_releases.release(built_releases.first))
    # besides its layers, the public archive holds the extra layers made for it (`labels`)
    extras = set(manifest["audiences"]["public"]["tiles"]["extra_layers"])
    assert not extras & set(internal)
    tiles = list(internal_tiles(built_releases, internal))
    zooms = {z for z, _, _ in tiles}
    assert len(zooms) >= 3, zooms  # several zooms
    seen = 0
    for z, x, y in tiles:
        r = client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
        assert r.status_code in (200, 204), (z, x, y)
        assert_clean(internal, f"public tile {z}/{x}/{y}", "", r.headers)
        if r.status_code == 200:
            got = set(decode(r.content, gzipped=False))
            assert got and not got & set(internal), (z, x, y, got)
            assert got <= set(public) | extras
            seen += 1
        for lid in public:  # each public collection's own tiles, at the same place
            r = client.get(f"/ogc/collections/{lid}/tiles/WebMercatorQuad/{z}/{y}/{x}")
            assert r.status_code in (200, 204, 404), (lid, z, x, y)
            if r.status_code == 200:
                assert set(decode(r.content, gzipped=False)) <= {lid}
    assert seen > 0


def test_public_documents_never_mention_an_internal_layer(
    client: TestClient, layers: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    internal, public = layers
    paths = [
        "/healthz",
        "/tiles/public.json",
        "/styles/public.json",
        "/ogc",
        "/ogc/",
        "/ogc/?f=html",
        "/ogc/?f=json",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections?f=html",
        "/ogc/openapi",
        "/ogc/openapi?f=json",
        "/ogc/TileMatrixSets",
    ]
    for lid in public:
        items = client.get(f"/ogc/collections/{lid}/items?limit=2")
        assert items.status_code == 200, lid
        features = items.json()["features"]
        assert features, lid
        paths += [f"/ogc/collections/{lid}{suffix}" for suffix in COLLECTION_PATHS]
        paths.append(f"/ogc/collections/{lid}/items/{features[0]['id']}")
    for path in paths:
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code < 500, path
        assert_clean(internal, path, r.text, r.headers)
        assert "/internal" not in r.text, path  # no link to the internal audience either
    assert_metrics_clean(client, internal)


def test_public_item_pages_never_mention_an_internal_layer(
    client: TestClient, layers: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    internal, public = layers
    for lid in public:
        fid = client.get(f"/ogc/collections/{lid}/items?limit=1").json()["features"][0]["id"]
        r = client.get(f"/ogc/collections/{lid}/items/{fid}?f=html")
        assert r.status_code == 200, lid
        assert_clean(internal, lid, r.text, r.headers)


def assert_metrics_clean(client: TestClient, internal: tuple[str, ...]) -> None:
    """/metrics after a walk: route templates only (those may say /internal/ogc/…)."""
    r = client.get("/metrics")
    assert r.status_code == 200 and "onemap_http_requests_total" in r.text
    assert_clean(internal, "/metrics", r.text, r.headers)


def test_internal_ids_answer_like_unknown_ids_on_public_paths(
    client: TestClient, probe: Probe, layers: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    internal, _ = layers
    for suffix in COLLECTION_PATHS:
        unknown = client.get(f"/ogc/collections/{UNKNOWN}{suffix}")
        assert unknown.status_code == 404, suffix
        for lid in internal:
            r = client.get(f"/ogc/collections/{lid}{suffix}")
            assert (r.status_code, r.content) == (unknown.status_code, unknown.content), suffix
            assert r.headers.get("content-type") == unknown.headers.get("content-type"), suffix
            assert_clean(internal, suffix, r.text, r.headers)
    # the tile the internal archive holds internal layers in: public gives only public layers
    z, x, y = probe.internal_only
    r = client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
    if r.status_code == 200:
        assert not set(decode(r.content, gzipped=False)) & set(internal)
    # the internal audience by name on public tile paths is asked for a token, never served
    for path in ("/tiles/internal.json", f"/tiles/internal/{z}/{x}/{y}.mvt"):
        assert client.get(path).status_code == 401
    assert_metrics_clean(client, internal)
    assert_clean(internal, "/healthz", client.get("/healthz").text)


def wrong_credentials(token: str) -> list[dict[str, str]]:
    def basic(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    return [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": "Bearer "},
        {"Authorization": basic("qgis", "wrong-token")},
        {"Authorization": basic(token, "")},  # the token as the user name is not the password
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": token},  # no scheme
    ]


def test_every_internal_path_needs_a_token(
    client: TestClient,
    probe: Probe,
    token: str,
    layers: tuple[tuple[str, ...], tuple[str, ...]],
    tmp_path: Path,
) -> None:
    internal, public = layers
    z, x, y = probe.internal_only
    paths = [
        f"/tiles/internal/{z}/{x}/{y}.mvt",
        "/tiles/internal/0/0/0.mvt",
        "/tiles/internal.json",
        "/tiles/internal.pmtiles",
        "/styles/internal.json",
        "/internal",
        "/internal/healthz",
        "/internal/ogc",
        "/internal/ogc/",
        "/internal/ogc/openapi",
        "/internal/ogc/collections",
        "/internal/ogc/no/such/path",
    ]
    for lid in (*internal, public[0], UNKNOWN):
        paths += [f"/internal/ogc/collections/{lid}{suffix}" for suffix in COLLECTION_PATHS]
    bodies = set()
    for path in paths:
        for headers in wrong_credentials(token):
            r = client.get(path, headers=headers, follow_redirects=False)
            assert r.status_code == 401, (path, headers)
            assert r.headers["www-authenticate"].startswith("Bearer"), path
            assert "Basic" in r.headers["www-authenticate"]
            assert_clean(internal, path, r.text)
            bodies.add(r.content)
    assert len(bodies) == 1  # one 401 for all: nothing said about what is behind it
    # the archive by Range too
    r = client.get("/tiles/internal.pmtiles", headers={"Range": "bytes=0-126"})
    assert r.status_code == 401
    # and the right token opens them (the test would pass on a server that refuses everyone)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/tiles/internal.json", headers=auth).status_code == 200
    assert client.get(f"/internal/ogc/collections/{internal[0]}", headers=auth).status_code == 200
    assert_metrics_clean(client, internal)  # even after the internal audience was served
