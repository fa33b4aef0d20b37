"""WMS 1.1.1 and 1.3.0 from a running server on the full sample release: capabilities, maps in
every CRS checked by their pixels, feature info, legends, and what the public never sees."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from publish.domain import PUBLIC
from tests.wms.helpers import (
    Place,
    Probes,
    all_transparent,
    box_around,
    close,
    hex_rgb,
    image,
    near,
    pixel_of,
    project,
    rgba_pixels,
    style_paint,
)

CRSS = ("EPSG:3857", "EPSG:4326", "EPSG:4490", "EPSG:4546")
NORTH_FIRST = {"EPSG:4326", "EPSG:4490", "EPSG:4546"}  # WMS 1.3.0 axis order of these CRSs
SIZE = (256, 256)


def getmap_params(
    layer: str, crs: str, bbox: tuple[float, float, float, float], version: str = "1.3.0"
) -> dict[str, str]:
    """GetMap for an east/north `bbox`, written in the axis order `version` wants."""
    if version == "1.3.0" and crs in NORTH_FIRST:
        bbox = (bbox[1], bbox[0], bbox[3], bbox[2])
    return {
        "SERVICE": "WMS",
        "REQUEST": "GetMap",
        "VERSION": version,
        "LAYERS": layer,
        "STYLES": "",
        ("CRS" if version == "1.3.0" else "SRS"): crs,
        "BBOX": ",".join(repr(v) for v in bbox),
        "WIDTH": str(SIZE[0]),
        "HEIGHT": str(SIZE[1]),
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }


def getmap(base: str, path: str, params: dict[str, str], **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{base}{path}", params=params, timeout=120, **kwargs)


def layer_names(xml: bytes) -> set[str]:
    """The Name of every Layer of a WMS capabilities document."""
    root = ET.fromstring(xml)
    return {
        name.text or ""
        for layer in root.iter()
        if layer.tag.endswith("Layer")
        for name in layer
        if name.tag.endswith("Name")
    }


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_capabilities_list_public_layers_and_crss(
    wms_server: str, full_release: Any, version: str
) -> None:
    r = httpx.get(
        f"{wms_server}/wms",
        params={"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": version},
        timeout=60,
    )
    assert r.status_code == 200
    manifest = json.loads((full_release.path / "manifest.json").read_bytes())
    public = set(manifest["audiences"][PUBLIC]["layers"])
    assert layer_names(r.content) == {"plan", *public}
    assert b"spxm" not in r.content
    text = r.text
    for crs in CRSS:
        assert crs in text
    assert "GetLegendGraphic" in text and "GetFeatureInfo" in text
    assert f"{wms_server}/wms?" in text  # the advertised URL is ours


def _place(probes: Probes, which: str) -> Place:
    return probes.land_use if which == "land_use" else probes.red_line


@pytest.mark.parametrize("which", ["land_use", "red_line"])
@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
@pytest.mark.parametrize("crs", CRSS)
def test_getmap_draws_the_style_colour_at_the_place(
    wms_server: str, probes: Probes, crs: str, version: str, which: str
) -> None:
    place = _place(probes, which)
    bbox = box_around(crs, place.lon, place.lat, 600)
    r = getmap(wms_server, "/wms", getmap_params(place.layer, crs, bbox, version))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png", r.text
    img = image(r.content)
    assert img.size == SIZE
    px, py = pixel_of(bbox, SIZE, *project(crs, place.lon, place.lat))
    assert near(img, px, py, place.colour, radius=1 if which == "land_use" else 3), (
        f"{place.layer} {place.note}: expected {place.colour} at ({px:.0f}, {py:.0f}), "
        f"got {img.getpixel((int(px), int(py)))}"
    )


def test_nothing_where_there_is_no_data(wms_server: str, probes: Probes) -> None:
    r = getmap(wms_server, "/wms", getmap_params("plan", "EPSG:4490", probes.nowhere))
    assert r.status_code == 200
    assert all_transparent(image(r.content))


def test_red_line_fill_is_faint_and_outside_is_empty(wms_server: str, probes: Probes) -> None:
    """Away from the boundary line, the red line layer is its 12 % fill inside and nothing
    outside: the line colour is only where the line is."""
    place = probes.red_line
    bbox = box_around("EPSG:3857", place.lon, place.lat, 3000)
    r = getmap(wms_server, "/wms", getmap_params("stbhhx", "EPSG:3857", bbox))
    img = image(r.content)
    alphas = sorted(img.getchannel("A").tobytes())
    assert alphas[0] == 0  # outside the red line
    faint = [a for a in alphas if 0 < a < 80]
    assert len(faint) > 0.05 * len(alphas)  # the fill inside


def test_4490_latitude_first_lands_where_3857_does(wms_server: str, probes: Probes) -> None:
    """A WMS 1.3.0 EPSG:4490 map (bbox lat,lon) and an EPSG:3857 map of the same place agree
    pixel by pixel (at sample points mapped through their coordinates)."""
    place = probes.land_use
    geo = box_around("EPSG:4490", place.lon, place.lat, 2500)
    merc = box_around("EPSG:3857", place.lon, place.lat, 2500)
    img_geo = image(getmap(wms_server, "/wms", getmap_params("ydyh", "EPSG:4490", geo)).content)
    img_merc = image(getmap(wms_server, "/wms", getmap_params("ydyh", "EPSG:3857", merc)).content)
    agree = total = 0
    for i in range(1, 10):
        for j in range(1, 10):
            lon = geo[0] + (geo[2] - geo[0]) * i / 10
            lat = geo[1] + (geo[3] - geo[1]) * j / 10
            a = img_geo.getpixel(tuple(int(v) for v in pixel_of(geo, SIZE, lon, lat)))
            x, y = project("EPSG:3857", lon, lat)
            b = img_merc.getpixel(tuple(int(v) for v in pixel_of(merc, SIZE, x, y)))
            total += 1
            agree += all(abs(p - q) <= 24 for p, q in zip(a, b, strict=True))
    assert agree >= 0.85 * total, f"{agree}/{total} sample points agree"
    # the same bbox read longitude-first is somewhere else entirely (or refused)
    wrong = getmap_params("ydyh", "EPSG:4490", geo)
    wrong["BBOX"] = ",".join(repr(v) for v in geo)
    r = getmap(wms_server, "/wms", wrong)
    assert r.headers["content-type"] != "image/png" or all_transparent(image(r.content))


def featureinfo_params(
    layer: str, lon: float, lat: float, info_format: str, version: str = "1.3.0"
) -> dict[str, str]:
    bbox = box_around("EPSG:4490", lon, lat, 500)
    params = getmap_params(layer, "EPSG:4490", bbox, version)
    px, py = pixel_of(bbox, SIZE, lon, lat)
    params.update(
        REQUEST="GetFeatureInfo",
        QUERY_LAYERS=layer,
        INFO_FORMAT=info_format,
        FEATURE_COUNT="5",
        **({"I": str(int(px)), "J": str(int(py))} if version == "1.3.0" else {}),
        **({"X": str(int(px)), "Y": str(int(py))} if version == "1.1.1" else {}),
    )
    return params


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_feature_info_from_the_feature_store(wms_server: str, probes: Probes, version: str) -> None:
    place = probes.land_use
    params = featureinfo_params("ydyh", place.lon, place.lat, "application/json", version)
    r = getmap(wms_server, "/wms", params)
    assert r.status_code == 200, r.text
    features = r.json()["features"]
    assert [f["id"] for f in features] == [f"ydyh.{probes.land_use_fid}"]
    assert features[0]["properties"]["YDYHFLDM"] == probes.land_use_code
    assert features[0]["properties"]["layer"] == "ydyh"

    html = getmap(wms_server, "/wms", {**params, "INFO_FORMAT": "text/html"})
    assert html.status_code == 200 and probes.land_use_code in html.text


def test_feature_info_of_the_whole_map_never_names_internal_layers(
    wms_server: str, probes: Probes, auth: dict[str, str]
) -> None:
    lon, lat = probes.spxm
    params = featureinfo_params("plan", lon, lat, "application/json")
    public = getmap(wms_server, "/wms", params)
    assert public.status_code == 200
    assert "spxm" not in public.text
    params = featureinfo_params("spxm", lon, lat, "application/json")
    internal = getmap(wms_server, "/internal/wms", params, headers=auth)
    assert internal.status_code == 200
    assert {f["properties"]["layer"] for f in internal.json()["features"]} == {"spxm"}


def test_legend_from_the_style(wms_server: str, public_style: dict[str, Any]) -> None:
    params = {
        "SERVICE": "WMS",
        "REQUEST": "GetLegendGraphic",
        "VERSION": "1.3.0",
        "LAYER": "stbhhx",
        "FORMAT": "image/png",
        "SLD_VERSION": "1.1.0",
    }
    r = httpx.get(f"{wms_server}/wms", params=params, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = image(r.content)
    red = hex_rgb(style_paint(public_style, "stbhhx-line", "line-color"))
    assert any(close(p, red, 4) for p in rgba_pixels(img))
    as_json = httpx.get(
        f"{wms_server}/wms", params={**params, "FORMAT": "application/json"}, timeout=60
    )
    assert as_json.status_code == 200
    assert as_json.json()[0]["layer"] == "stbhhx"


@pytest.mark.parametrize(
    "request_name", ["GetMap", "GetLegendGraphic", "GetFeatureInfo"], ids=str.lower
)
def test_public_wms_has_no_internal_layer(
    wms_server: str, probes: Probes, request_name: str
) -> None:
    lon, lat = probes.spxm
    params = featureinfo_params("spxm", lon, lat, "application/json")
    params.update(REQUEST=request_name, LAYER="spxm", SLD_VERSION="1.1.0")
    r = getmap(wms_server, "/wms", params)
    assert r.status_code == 400
    assert r.headers["content-type"].split(";")[0] in ("text/xml", "application/vnd.ogc.se_xml")
    assert b"LayerNotDefined" in r.content or b"unknown layer" in r.content.lower()


def test_internal_wms_needs_the_token(
    wms_server: str, probes: Probes, auth: dict[str, str], wms_token: str
) -> None:
    caps = {"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": "1.3.0"}
    assert httpx.get(f"{wms_server}/internal/wms", params=caps).status_code == 401
    basic = httpx.get(f"{wms_server}/internal/wms", params=caps, auth=("staff", wms_token))
    assert basic.status_code == 200
    assert "spxm" in layer_names(basic.content)
    assert f"{wms_server}/internal/wms?" in basic.text
    lon, lat = probes.spxm
    bbox = box_around("EPSG:3857", lon, lat, 400)
    r = getmap(wms_server, "/internal/wms", getmap_params("spxm", "EPSG:3857", bbox), headers=auth)
    assert r.headers["content-type"] == "image/png"
    assert not all_transparent(image(r.content))


def test_malformed_request_is_a_clear_4xx(wms_server: str) -> None:
    params = getmap_params("plan", "EPSG:3857", (0, 0, 1, 1))
    params["BBOX"] = "a,b,c"
    r = getmap(wms_server, "/wms", params)
    assert r.status_code == 400 and "BBOX" in r.json()["description"]
    del params["LAYERS"]
    params["BBOX"] = "0,0,1,1"
    r = getmap(wms_server, "/wms", params)
    assert r.status_code == 400 and b"missing parameters" in r.content
    params.update(LAYERS="plan", WIDTH="0")
    assert getmap(wms_server, "/wms", params).status_code == 400
    params.update(WIDTH="256", CRS="EPSG:999999")
    r = getmap(wms_server, "/wms", params)
    assert r.status_code == 400 and "CRS" in r.json()["description"]
    r = httpx.post(f"{wms_server}/wms", timeout=10)
    assert r.status_code == 405
