"""Tiles over HTTP (TestClient): every status, caching headers, and the MVT decoded per audience."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from publish.tiles.archive import Archive
from tests.server.helpers import Built, Probe, TestClient, decode

MVT = "application/vnd.mapbox-vector-tile"


def path(audience: str, tile: tuple[int, int, int], ext: str = "mvt") -> str:
    z, x, y = tile
    return f"/tiles/{audience}/{z}/{x}/{y}.{ext}"


def stored(built: Built, audience: str, tile: tuple[int, int, int]) -> bytes:
    with Archive(built.archive_path(built.first, audience)) as archive:
        data = archive.get(*tile)
    assert data is not None
    return data


def test_public_tile_is_sent_as_stored(
    client: TestClient, probe: Probe, built_releases: Built
) -> None:
    with client.stream("GET", path("public", probe.public)) as r:
        raw = b"".join(r.iter_raw())  # the bytes on the wire, not decompressed by httpx
    assert r.status_code == 200
    assert r.headers["content-type"] == MVT
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=600"
    assert r.headers["x-onemap-release"] == built_releases.first
    assert raw == stored(built_releases, "public", probe.public)
    assert int(r.headers["content-length"]) == len(raw)
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2


def test_pbf_extension_is_the_same_tile(client: TestClient, probe: Probe) -> None:
    a = client.get(path("public", probe.public))
    b = client.get(path("public", probe.public, "pbf"))
    assert b.status_code == 200
    assert a.content == b.content and a.headers["etag"] == b.headers["etag"]


def test_public_tile_never_holds_the_internal_layer(
    client: TestClient, probe: Probe, auth: dict[str, str]
) -> None:
    public = client.get(path("public", probe.internal_only))
    internal = client.get(path("internal", probe.internal_only), headers=auth)
    assert public.status_code == internal.status_code == 200
    public_layers = decode(public.content, gzipped=False)  # httpx undid Content-Encoding
    internal_layers = decode(internal.content, gzipped=False)
    assert "spxm" not in public_layers
    assert "spxm" in internal_layers and internal_layers["spxm"]["features"]
    assert set(public_layers) < set(internal_layers)
    assert internal.headers["cache-control"].startswith("private")
    for layer in public_layers.values():
        assert layer["features"], "layers come with features"


def test_etag_and_if_none_match(client: TestClient, probe: Probe) -> None:
    first = client.get(path("public", probe.public))
    etag = first.headers["etag"]
    again = client.get(path("public", probe.public), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=600"
    listed = client.get(
        path("public", probe.public), headers={"If-None-Match": f'"nope", W/{etag}'}
    )
    assert listed.status_code == 304
    other = client.get(path("public", probe.public), headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200 and other.content == first.content


def test_head_gives_headers_only(client: TestClient, probe: Probe) -> None:
    get = client.get(path("public", probe.public))
    head = client.head(path("public", probe.public))
    assert head.status_code == 200
    assert head.content == b""
    for key in ("etag", "content-length", "content-encoding", "content-type"):
        assert head.headers[key] == get.headers[key]


def test_empty_tile_inside_bounds_is_204(client: TestClient, probe: Probe) -> None:
    r = client.get(path("public", probe.empty))
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["cache-control"] == "public, max-age=600"


def test_zoom_zero_tile(client: TestClient) -> None:
    r = client.get("/tiles/public/0/0/0.mvt")
    assert r.status_code == 200
    assert mapbox_vector_tile.decode(r.content)


def test_outside_zooms_or_bounds_is_404(client: TestClient, probe: Probe) -> None:
    z = probe.maxzoom + 1
    for url in (
        f"/tiles/public/{z}/0/0.mvt",  # deeper than the archive
        "/tiles/public/40/0/0.mvt",  # deeper than any archive
        f"/tiles/public/{probe.maxzoom}/0/0.mvt",  # the far north-west: outside the bounds
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.json()["code"] == "NotFound"


def test_unknown_audience_is_404_like_any_unknown_path(client: TestClient) -> None:
    bodies = {client.get(url).text for url in ("/tiles/nobody/0/0/0.mvt", "/nowhere")}
    assert len(bodies) == 1
    r = client.get("/tiles/nobody/0/0/0.mvt")
    assert r.status_code == 404
    assert r.json() == {"code": "NotFound", "type": "NotFound", "description": "not found"}


@pytest.mark.parametrize(
    "url",
    [
        "/tiles/public/a/0/0.mvt",
        "/tiles/public/1/x/0.mvt",
        "/tiles/public/1/0/y.mvt",
        "/tiles/public/-1/0/0.mvt",
        "/tiles/public/1/0/0",
        "/tiles/public/1/0/0.png",
        "/tiles/public/1/2/0.mvt",  # x out of range for z1
        "/tiles/public/1/0/2.mvt",  # y out of range for z1
        "/tiles/public/0/0/0.5.mvt",
        "/tiles/public/99999999999/0/0.mvt",
    ],
)
def test_malformed_tile_path_is_400(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 400, url
    body = r.json()
    assert body["code"] == "BadRequest" and body["description"]
    assert "Traceback" not in r.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(client: TestClient, probe: Probe, method: str) -> None:
    r = client.request(method, path("public", probe.public))
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert r.json()["code"] == "MethodNotAllowed"


def test_cors_headers(client: TestClient, probe: Probe) -> None:
    origin = "https://map.example.gov.cn"
    r = client.get(path("public", probe.public), headers={"Origin": origin})
    assert r.headers["access-control-allow-origin"] == origin
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "content-range", "content-length", "accept-ranges"} <= exposed
    pre = client.options(
        "/tiles/internal.pmtiles",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, range",
        },
    )
    assert pre.status_code == 200
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    stranger = client.get(path("public", probe.public), headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in stranger.headers


def test_tile_cache_serves_repeats_from_memory(client: TestClient, probe: Probe) -> None:
    cache = client.app.state.server.tile_cache  # type: ignore[attr-defined]
    client.get(path("public", probe.public))
    hits = cache.hits
    for _ in range(3):
        assert client.get(path("public", probe.public)).status_code == 200
    assert cache.hits == hits + 3
    assert 0 < cache.bytes <= cache.max_bytes
