"""What a client's mistake gets from the real server's WMS and WMTS: a 4xx naming the problem,
never a 5xx; one answer for a layer nobody knows and for an internal layer asked publicly; no
path or value echoed where a browser could read it as markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.wms.helpers import Probes, box_around, image, xyz_tile
from tests.wms.test_wms import SIZE, featureinfo_params, getmap_params

EXCEPTION_TYPES = ("text/xml", "application/vnd.ogc.se_xml")
LEVEL = 14


def get(base: str, path: str, params: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    return httpx.get(f"{base}{path}", params=params, timeout=120, **kw)


def media(r: httpx.Response) -> str:
    return r.headers["content-type"].split(";")[0].strip()


def exception_codes(r: httpx.Response) -> list[str]:
    """The codes of a WMS ServiceExceptionReport or an OWS ExceptionReport."""
    assert media(r) in EXCEPTION_TYPES, r.text
    root = ET.fromstring(r.content)
    return [
        el.get("code") or el.get("exceptionCode") or ""
        for el in root.iter()
        if el.tag.endswith(("ServiceException", "}Exception"))
    ]


def wmts_params(request: str, layer: str, probes: Probes) -> dict[str, str]:
    col, row, px, py = xyz_tile(probes.land_use.lon, probes.land_use.lat, LEVEL)
    params = {
        "SERVICE": "WMTS",
        "REQUEST": request,
        "VERSION": "1.0.0",
        "LAYER": layer,
        "STYLE": "default",
        "TILEMATRIXSET": "webmercator",
        "TILEMATRIX": f"{LEVEL:02d}",
        "TILEROW": str(row),
        "TILECOL": str(col),
        "FORMAT": "image/png",
    }
    if request == "GetFeatureInfo":
        params.update(INFOFORMAT="application/json", I=str(int(px)), J=str(int(py)))
    return params


def rest_tile(layer: str, probes: Probes, info: str = "") -> str:
    col, row, _px, _py = xyz_tile(probes.land_use.lon, probes.land_use.lat, LEVEL)
    tail = f"/{info}.json" if info else ".png"
    return f"/wmts/{layer}/webmercator/{LEVEL:02d}/{col}/{row}{tail}"


def layer_requests(layer: str, probes: Probes) -> dict[str, tuple[str, dict[str, str], str]]:
    """Requests naming `layer` in each place a client can: (path, params, expected code)."""
    lon, lat = probes.land_use.lon, probes.land_use.lat
    gfi = featureinfo_params("plan", lon, lat, "application/json")
    gfi111 = featureinfo_params("plan", lon, lat, "application/json", "1.1.1")
    bbox = box_around("EPSG:3857", lon, lat, 500)
    return {
        "getmap": ("/wms", getmap_params(layer, "EPSG:3857", bbox), "LayerNotDefined"),
        "getfeatureinfo": ("/wms", {**gfi, "QUERY_LAYERS": layer}, "LayerNotDefined"),
        "getfeatureinfo-1.1.1": ("/wms", {**gfi111, "QUERY_LAYERS": layer}, "LayerNotDefined"),
        "getfeatureinfo-layers": ("/wms", {**gfi, "LAYERS": layer}, "LayerNotDefined"),
        "getlegendgraphic": (
            "/wms",
            {
                "SERVICE": "WMS",
                "REQUEST": "GetLegendGraphic",
                "VERSION": "1.3.0",
                "LAYER": layer,
                "FORMAT": "image/png",
                "SLD_VERSION": "1.1.0",
            },
            "LayerNotDefined",
        ),
        "wmts-kvp-tile": ("/wmts", wmts_params("GetTile", layer, probes), "InvalidParameterValue"),
        "wmts-kvp-info": (
            "/wmts",
            wmts_params("GetFeatureInfo", layer, probes),
            "InvalidParameterValue",
        ),
        "wmts-rest-tile": (rest_tile(layer, probes), {}, "InvalidParameterValue"),
        "wmts-rest-info": (rest_tile(layer, probes, "10/10"), {}, "InvalidParameterValue"),
    }


KINDS = [
    "getmap",
    "getfeatureinfo",
    "getfeatureinfo-1.1.1",
    "getfeatureinfo-layers",
    "getlegendgraphic",
    "wmts-kvp-tile",
    "wmts-kvp-info",
    "wmts-rest-tile",
    "wmts-rest-info",
]


@pytest.mark.parametrize("kind", KINDS)
def test_internal_and_unknown_layers_get_one_answer(
    wms_server: str, probes: Probes, auth: dict[str, str], kind: str
) -> None:
    path, params, code = layer_requests("nosuch", probes)[kind]
    unknown = get(wms_server, path, params)
    path, params, code = layer_requests("spxm", probes)[kind]
    internal = get(wms_server, path, params)
    assert unknown.status_code == internal.status_code == 400, internal.text
    assert exception_codes(internal) == [code]
    assert media(unknown) == media(internal)
    assert unknown.content == internal.content  # the name is not echoed either
    assert b"spxm" not in internal.content
    # staff ask the same with the token and get the layer
    staff = get(wms_server, "/internal" + path, params, headers=auth)
    assert staff.status_code == 200, staff.text


def test_feature_info_outside_the_image_is_invalid_point(wms_server: str, probes: Probes) -> None:
    lon, lat = probes.land_use.lon, probes.land_use.lat
    for version, (x, y) in (("1.3.0", ("I", "J")), ("1.1.1", ("X", "Y"))):
        params = featureinfo_params("ydyh", lon, lat, "application/json", version)
        for key, value in ((x, "-1"), (x, str(SIZE[0])), (y, "-3"), (y, str(SIZE[1] + 500))):
            r = get(wms_server, "/wms", {**params, key: value})
            assert r.status_code == 400, (version, key, value, r.text)
            assert exception_codes(r) == ["InvalidPoint"]
        inside = get(wms_server, "/wms", {**params, x: str(SIZE[0] - 1), y: "0"})
        assert inside.status_code == 200


@pytest.mark.parametrize(
    "info_format", ["foo/bar", "", "text/xml", "application/vnd.ogc.gml", "json"]
)
def test_feature_info_in_a_format_not_offered_is_invalid_format(
    wms_server: str, probes: Probes, info_format: str
) -> None:
    params = featureinfo_params("ydyh", probes.land_use.lon, probes.land_use.lat, info_format)
    r = get(wms_server, "/wms", params)
    assert r.status_code == 400
    assert exception_codes(r) == ["InvalidFormat"]
    assert "application/json" in r.text  # it says what is offered


@pytest.mark.parametrize("legend_format", ["image/unknown", "text/html", ""])
def test_legend_in_a_format_not_offered_is_invalid_format(
    wms_server: str, legend_format: str
) -> None:
    params = {
        "SERVICE": "WMS",
        "REQUEST": "GetLegendGraphic",
        "VERSION": "1.3.0",
        "LAYER": "plan",
        "FORMAT": legend_format,
        "SLD_VERSION": "1.1.0",
    }
    r = get(wms_server, "/wms", params)
    assert r.status_code == 400
    assert exception_codes(r) == ["InvalidFormat"]


def test_wmts_feature_info_outside_the_tile(wms_server: str, probes: Probes) -> None:
    kvp = wmts_params("GetFeatureInfo", "ydyh", probes)
    for key, value in (("I", "256"), ("J", "256"), ("I", "-1"), ("J", "-7")):
        r = get(wms_server, "/wmts", {**kvp, key: value})
        assert r.status_code == 400, (key, value, r.text)
        assert exception_codes(r) == ["PointIJOutOfRange"]
    for pixel in ("256/10", "10/256", "1000/1000"):
        r = get(wms_server, rest_tile("ydyh", probes, pixel))
        assert r.status_code == 400
        assert exception_codes(r) == ["PointIJOutOfRange"]
    r = get(wms_server, rest_tile("ydyh", probes, "-1/10"))  # not a whole number
    assert r.status_code == 400 and "TileRow" in r.json()["description"]
    r = get(wms_server, rest_tile("ydyh", probes, "255/255"))
    assert r.status_code == 200


def test_wmts_feature_info_in_a_format_not_offered(wms_server: str, probes: Probes) -> None:
    kvp = wmts_params("GetFeatureInfo", "ydyh", probes)
    for info_format in ("foo/bar", "text/plain", ""):
        r = get(wms_server, "/wmts", {**kvp, "INFOFORMAT": info_format})
        assert r.status_code == 400
        assert exception_codes(r) == ["InvalidParameterValue"]
    r = get(wms_server, rest_tile("ydyh", probes, "10/10").replace(".json", ".xyz"))
    assert r.status_code == 400
    assert exception_codes(r) == ["InvalidParameterValue"]


ODD_PATHS = [
    "/wmts/1.0.0/..%2f..%2fetc%2fpasswd",
    "/wmts/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/wmts/1.0.0/%00",
    "/wmts/a/b/c",
    "/wmts/" + "a" * 5000,
    "/wmts/1.0.0/" + "a/" * 400,
    "/wmts/",
    "/wmts/1.0.0",
    "/wmts/1.0.0/WMTSCapabilities.json",
    "/wmts/x/1.0.0/WMTSCapabilities.xml",
    "/wmts/plan/webmercator/10/800/400",
    "/wmts/plan/webmercator/10/800/400.png/x",
    "/wmts/plan/%3Cb%3E/10/800/400.png",
    "/wmts/%3Cscript%3E/webmercator/10/800/400.png",
    "/wmts/plan/default/webmercator/10/800/400.png",
    "/internal/wmts/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_wmts_paths_are_not_found_and_not_echoed(
    wms_server: str, auth: dict[str, str], path: str
) -> None:
    r = get(wms_server, path, headers=auth)
    assert r.status_code == 404, r.text
    assert r.json() == {"code": "NotFound", "type": "NotFound", "description": "not found"}


def test_the_wmts_of_a_path_is_found_only_at_its_place(wms_server: str) -> None:
    """MapProxy finds a tile address anywhere in a path; the server only where it belongs."""
    assert get(wms_server, "/wmts/plan/webmercator/03/6/3.png").status_code == 200
    assert get(wms_server, "/wmts/a/b/c/plan/webmercator/03/6/3.png").status_code == 404


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VERSION", ""),
        ("VERSION", "abc"),
        ("VERSION", "1.3.0.0"),
        ("BGCOLOR", "red"),
        ("BGCOLOR", "#ffffff"),
        ("BGCOLOR", "0xGGGGGG"),
        ("FEATURE_COUNT", "0"),
    ],
)
def test_malformed_values_are_400_naming_the_parameter(
    wms_server: str, probes: Probes, key: str, value: str
) -> None:
    params = featureinfo_params("ydyh", probes.land_use.lon, probes.land_use.lat, "text/html")
    r = get(wms_server, "/wms", {**params, key: value})
    assert r.status_code == 400
    assert key in r.json()["description"]


def test_legend_scale_must_be_a_number(wms_server: str) -> None:
    params = {
        "SERVICE": "WMS",
        "REQUEST": "GetLegendGraphic",
        "VERSION": "1.3.0",
        "LAYER": "plan",
        "FORMAT": "image/png",
        "SLD_VERSION": "1.1.0",
    }
    r = get(wms_server, "/wms", {**params, "SCALE": "x"})
    assert r.status_code == 400 and "SCALE" in r.json()["description"]
    assert get(wms_server, "/wms", {**params, "SCALE": "5000"}).status_code == 200


def test_a_valid_bgcolor_is_drawn(wms_server: str, probes: Probes) -> None:
    bbox = box_around("EPSG:3857", *probes.nowhere[:2], 500)
    params = getmap_params("plan", "EPSG:3857", bbox)
    r = get(wms_server, "/wms", {**params, "TRANSPARENT": "FALSE", "BGCOLOR": "0x336699"})
    assert r.status_code == 200 and media(r) == "image/png"
    assert image(r.content).getpixel((1, 1)) == (0x33, 0x66, 0x99, 255)


def test_version_negotiation_leaves_the_service_working(wms_server: str) -> None:
    """MapProxy negotiated versions by popping them off the service's own list: two requests
    for a version it does not have broke every later request that names none."""
    caps = {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}
    for _ in range(3):
        r = get(wms_server, "/wms", {**caps, "VERSION": "1.2.0"})
        assert r.status_code == 200 and b"WMT_MS_Capabilities" in r.content  # 1.1.1
    r = get(wms_server, "/wms", caps)
    assert r.status_code == 200 and b"WMS_Capabilities" in r.content  # 1.3.0, the highest


@pytest.mark.parametrize("value", ["\x01", "a\x00b", "\x1f", "\ufffe"])
@pytest.mark.parametrize("key", ["REQUEST", "FORMAT", "STYLES", "TILEMATRIXSET"])
def test_control_characters_are_refused_before_an_xml_exception_echoes_them(
    wms_server: str, key: str, value: str
) -> None:
    """XML cannot hold them, escaped or not: MapProxy's exception would not parse."""
    params = getmap_params("plan", "EPSG:3857", (0, 0, 1000, 1000))
    r = get(wms_server, "/wms", {**params, key: value})
    assert r.status_code == 400
    assert "control characters" in r.json()["description"]
