"""WMTS (RESTful and KVP) from a running server on the full sample release: capabilities with
the Web Mercator and CGCS2000 (TianDiTu) grids, tiles in both checked by their pixels."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.wms.helpers import Probes, all_transparent, geodetic_tile, image, near, xyz_tile

OWS = "{http://www.opengis.net/ows/1.1}"
WMTS = "{http://www.opengis.net/wmts/1.0}"
LEVEL = 14


def capabilities(
    base: str, path: str = "/wmts", headers: dict[str, str] | None = None
) -> ET.Element:
    params = {"SERVICE": "WMTS", "REQUEST": "GetCapabilities", "VERSION": "1.0.0"}
    if path.endswith(".xml"):
        params = {}
    r = httpx.get(f"{base}{path}", params=params, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    return ET.fromstring(r.content)


def layers(root: ET.Element) -> set[str]:
    contents = root.find(f"{WMTS}Contents")
    assert contents is not None
    return {el.findtext(f"{OWS}Identifier") or "" for el in contents.findall(f"{WMTS}Layer")}


@pytest.mark.parametrize("path", ["/wmts", "/wmts/1.0.0/WMTSCapabilities.xml"])
def test_capabilities_offer_both_grids_and_only_public_layers(wms_server: str, path: str) -> None:
    root = capabilities(wms_server, path)
    names = layers(root)
    assert {"plan", "ydyh", "stbhhx", "dltb"} <= names
    assert "spxm" not in names
    assert b"spxm" not in ET.tostring(root)
    sets = {
        s.findtext(f"{OWS}Identifier"): s
        for s in root.iter(f"{WMTS}TileMatrixSet")
        if s.find(f"{OWS}SupportedCRS") is not None
    }
    assert (sets["webmercator"].findtext(f"{OWS}SupportedCRS") or "").endswith(":3857")
    geo = sets["cgcs2000"]
    assert (geo.findtext(f"{OWS}SupportedCRS") or "").endswith(":4490")
    first = geo.findall(f"{WMTS}TileMatrix")[1]  # TianDiTu's level 1: 2 × 1 tiles
    assert first.findtext(f"{OWS}Identifier") == "01"
    assert first.findtext(f"{WMTS}TopLeftCorner") == "90.0 -180.0"  # latitude first
    assert (first.findtext(f"{WMTS}MatrixWidth"), first.findtext(f"{WMTS}MatrixHeight")) == (
        "2",
        "1",
    )


def _tile_url(base: str, layer: str, grid: str, lon: float, lat: float) -> tuple[str, float, float]:
    tile = xyz_tile if grid == "webmercator" else geodetic_tile
    col, row, px, py = tile(lon, lat, LEVEL)
    return f"{base}/wmts/{layer}/{grid}/{LEVEL:02d}/{col}/{row}.png", px, py


@pytest.mark.parametrize("grid", ["webmercator", "cgcs2000"])
@pytest.mark.parametrize("which", ["land_use", "red_line"])
def test_tiles_in_both_grids_show_the_style(
    wms_server: str, probes: Probes, grid: str, which: str
) -> None:
    place = probes.land_use if which == "land_use" else probes.red_line
    url, px, py = _tile_url(wms_server, place.layer, grid, place.lon, place.lat)
    r = httpx.get(url, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"].startswith("public, max-age=")
    assert r.headers["x-onemap-release"]
    img = image(r.content)
    assert img.size == (256, 256)
    assert near(img, px, py, place.colour, radius=1 if which == "land_use" else 3)
    again = httpx.get(url, timeout=60)  # from the cache now
    assert again.content == r.content


def test_kvp_get_tile_is_the_restful_tile(wms_server: str, probes: Probes) -> None:
    place = probes.land_use
    col, row, _px, _py = geodetic_tile(place.lon, place.lat, LEVEL)
    params = {
        "SERVICE": "WMTS",
        "REQUEST": "GetTile",
        "VERSION": "1.0.0",
        "LAYER": "ydyh",
        "STYLE": "default",
        "TILEMATRIXSET": "cgcs2000",
        "TILEMATRIX": f"{LEVEL:02d}",
        "TILEROW": str(row),
        "TILECOL": str(col),
        "FORMAT": "image/png",
    }
    kvp = httpx.get(f"{wms_server}/wmts", params=params, timeout=120)
    rest, _, _ = _tile_url(wms_server, "ydyh", "cgcs2000", place.lon, place.lat)
    assert kvp.status_code == 200
    assert kvp.content == httpx.get(rest, timeout=120).content


def test_tile_without_data_is_empty(wms_server: str, probes: Probes) -> None:
    west, south, _east, _north = probes.nowhere
    url, _, _ = _tile_url(wms_server, "plan", "cgcs2000", west, south)
    r = httpx.get(url, timeout=60)
    assert r.status_code == 200
    assert all_transparent(image(r.content))


def test_feature_info_on_a_tile(wms_server: str, probes: Probes) -> None:
    place = probes.land_use
    url, px, py = _tile_url(wms_server, "ydyh", "webmercator", place.lon, place.lat)
    r = httpx.get(url.removesuffix(".png") + f"/{int(px)}/{int(py)}.json", timeout=60)
    assert r.status_code == 200, r.text
    assert [f["properties"]["YDYHFLDM"] for f in r.json()["features"]] == [probes.land_use_code]


def test_internal_layer_is_not_a_public_tile(wms_server: str, probes: Probes) -> None:
    lon, lat = probes.spxm
    url, _, _ = _tile_url(wms_server, "spxm", "webmercator", lon, lat)
    assert httpx.get(url, timeout=60).status_code in (400, 404)


def test_internal_wmts_needs_the_token(
    wms_server: str, probes: Probes, auth: dict[str, str]
) -> None:
    path = "/internal/wmts/1.0.0/WMTSCapabilities.xml"
    assert httpx.get(f"{wms_server}{path}", timeout=60).status_code == 401
    assert "spxm" in layers(capabilities(wms_server, path, headers=auth))
    lon, lat = probes.spxm
    url, _, _ = _tile_url(wms_server, "spxm", "cgcs2000", lon, lat)
    internal = url.replace("/wmts/", "/internal/wmts/")
    assert httpx.get(internal, timeout=60).status_code == 401
    r = httpx.get(internal, headers=auth, timeout=120)
    assert r.status_code == 200 and not all_transparent(image(r.content))
    assert r.headers["cache-control"].startswith("private")


def test_malformed_tile_address_is_400(wms_server: str) -> None:
    r = httpx.get(f"{wms_server}/wmts/plan/webmercator/a/0/0.png", timeout=30)
    assert r.status_code == 400 and "TileMatrix" in r.json()["description"]
