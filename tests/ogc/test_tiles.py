"""OGC API Tiles over HTTP: tile sets, metadata, and collection tiles holding only their layer."""

from __future__ import annotations

import gzip

import mapbox_vector_tile
import pytest

from publish.tiles.archive import Archive, TileStatus, lookup
from tests.server.helpers import Built, TestClient, decode

MVT = "application/vnd.mapbox-vector-tile"


def find(
    built: Built, audience: str, z: int, has: str, lacks: str | None = None
) -> tuple[int, int, int]:
    """A stored tile at zoom z holding layer `has` (and not `lacks`)."""
    with Archive(built.archive_path(built.first, audience)) as archive:
        for tz, x, y, data in archive.iter_tiles():
            if tz == z:
                layers = decode(data)
                if has in layers and (lacks is None or lacks not in layers):
                    return z, x, y
    raise AssertionError(f"no tile at z{z} with {has} without {lacks}")


def url(layer: str, z: int, x: int, y: int, prefix: str = "/ogc") -> str:
    return f"{prefix}/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"  # z/row/col


def test_tile_sets_and_metadata(client: TestClient) -> None:
    r = client.get("/ogc/collections/stbhhx/tiles")
    assert r.status_code == 200
    body = r.json()
    assert [t["tileMatrixSetURI"] for t in body["tilesets"]] == [
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    ]
    item = next(link for link in body["links"] if link["rel"] == "item")
    assert item["href"].startswith("http://testserver/ogc/collections/stbhhx/tiles/")
    meta = client.get("/ogc/collections/stbhhx/tiles/WebMercatorQuad/metadata?f=json").json()
    assert meta["dataType"] == "vector"
    assert meta["layers"][0]["id"] == "stbhhx"
    limits = meta["tileMatrixSetLimits"]
    assert limits and all(lim["minTileRow"] <= lim["maxTileRow"] for lim in limits)
    tilejson = client.get("/ogc/collections/stbhhx/tiles/WebMercatorQuad/metadata?f=tilejson")
    assert tilejson.status_code == 200
    tj = tilejson.json()
    assert tj["tiles"] == [
        "http://testserver/ogc/collections/stbhhx/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt"
    ]
    assert [la["id"] for la in tj["vector_layers"]] == ["stbhhx"]
    assert client.get("/ogc/collections/stbhhx/tiles/WebMercatorQuad").status_code == 200
    assert client.get("/ogc/TileMatrixSets").status_code == 200
    assert client.get("/ogc/collections/stbhhx/tiles/NoSuchSet/metadata").status_code == 404


def test_a_collection_tile_holds_only_its_layer(client: TestClient, built_releases: Built) -> None:
    z, x, y = find(built_releases, "public", 8, "stbhhx", lacks=None)
    with client.stream("GET", url("stbhhx", z, x, y)) as r:
        raw = b"".join(r.iter_raw())
    assert r.status_code == 200
    assert r.headers["content-type"] == MVT
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "public, max-age=600"
    layers = mapbox_vector_tile.decode(gzip.decompress(raw))
    assert list(layers) == ["stbhhx"]
    with Archive(built_releases.archive_path(built_releases.first, "public")) as archive:
        stored = decode(lookup(archive, z, x, y).data or b"")
    assert layers["stbhhx"] == stored["stbhhx"]
    etag = r.headers["etag"]
    again = client.get(url("stbhhx", z, x, y), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag


def test_tile_statuses(client: TestClient, built_releases: Built) -> None:
    z, x, y = find(built_releases, "public", 10, "xzq_xian", lacks="stbhhx")
    empty = client.get(url("stbhhx", z, x, y))
    assert empty.status_code == 204 and empty.content == b""
    with Archive(built_releases.archive_path(built_releases.first, "public")) as archive:
        assert lookup(archive, z, x, y).status is TileStatus.OK
        maxzoom = archive.maxzoom
    assert client.get(url("stbhhx", maxzoom + 1, x * 2, y * 2)).status_code == 404
    assert (
        client.get(url("stbhhx", 0, 0, 0).replace("WebMercatorQuad", "WorldCRS84Quad")).status_code
        == 404
    )
    assert client.get("/ogc/collections/stbhhx/tiles/WebMercatorQuad/a/b/c").status_code == 400
    assert client.get(url("stbhhx", 2, 4, 0)).status_code == 400  # col 4 at zoom 2
    assert client.post(url("stbhhx", 0, 0, 0)).status_code == 405


def test_internal_collection_tiles_need_the_internal_mount(
    client: TestClient, built_releases: Built, auth: dict[str, str]
) -> None:
    z, x, y = find(built_releases, "internal", 10, "spxm")
    r = client.get(url("spxm", z, x, y, "/internal/ogc"), headers=auth)
    assert r.status_code == 200
    assert r.headers["cache-control"].startswith("private")
    assert list(mapbox_vector_tile.decode(r.content)) == ["spxm"]
    assert client.get(url("spxm", z, x, y, "/internal/ogc")).status_code == 401
    assert client.get(url("spxm", z, x, y)).status_code == 404


@pytest.mark.parametrize("layer", ["stbhhx", "hl"])
def test_stock_pygeoapi_interface_returns_plain_mvt(built_releases: Built, layer: str) -> None:
    from publish.ogc.tiles import PMTilesProvider

    archive = built_releases.archive_path(built_releases.first, "public")
    provider = PMTilesProvider(
        {
            "name": "publish.ogc.tiles.PMTilesProvider",
            "type": "tile",
            "data": str(archive),
            "options": {"layer": layer, "zoom": {"min": 0, "max": 15}},
            "format": {"name": "pbf", "mimetype": MVT},
        }
    )
    z, x, y = find(built_releases, "public", 8, layer)
    data = provider.get_tiles(layer, "WebMercatorQuad", z, y, x, "mvt")
    assert data is not None and list(mapbox_vector_tile.decode(data)) == [layer]


def test_tiles_list_carries_tile_matrix_set_links(client: TestClient) -> None:
    """Issue 16: `tiles` carries tileMatrixSetLinks (the drafts' name) beside tilesets."""
    body = client.get("/ogc/collections/stbhhx/tiles?f=json").json()
    assert body["tileMatrixSetLinks"] == [
        {
            "tileMatrixSet": "WebMercatorQuad",
            "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        }
    ]
    assert body["tilesets"]
