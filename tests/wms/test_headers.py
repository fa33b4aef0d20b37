"""Headers around MapProxy: the URLs in capabilities come from the server, never from a client's
X-Forwarded-* or X-Script-Name headers; CORS headers come from the server's settings alone."""

from __future__ import annotations

import dataclasses

import pytest

from publish.server.settings import Settings
from tests.server.helpers import TestClient, make_client

CAPABILITIES = [
    ("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": "1.3.0"}),
    ("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities", "VERSION": "1.1.1"}),
    ("/wmts", {"SERVICE": "WMTS", "REQUEST": "GetCapabilities", "VERSION": "1.0.0"}),
    ("/wmts/1.0.0/WMTSCapabilities.xml", {}),
]
CLIENT_URL_HEADERS = [
    {"X-Forwarded-Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    {"X-Forwarded-Proto": "gopher"},
    {"X-Script-Name": "/evil"},
    {"X_Forwarded_Host": "evil.example"},  # a WSGI environ cannot tell '_' from '-'
]


@pytest.mark.parametrize(("path", "params"), CAPABILITIES, ids=["wms130", "wms111", "kvp", "rest"])
def test_client_headers_do_not_change_capabilities(
    wms_app: TestClient, path: str, params: dict[str, str]
) -> None:
    plain = wms_app.get(path, params=params)
    assert plain.status_code == 200
    assert b"http://testserver/" in plain.content  # the request's own host
    for headers in CLIENT_URL_HEADERS:
        r = wms_app.get(path, params=params, headers=headers)
        assert r.status_code == 200, headers
        assert r.content == plain.content, headers
        assert b"evil" not in r.content and b"gopher" not in r.content


def test_internal_capabilities_ignore_them_too(wms_app: TestClient, auth: dict[str, str]) -> None:
    path = "/internal/wmts/1.0.0/WMTSCapabilities.xml"
    r = wms_app.get(path, headers={**auth, "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 200
    assert b"http://testserver/internal/wmts/" in r.content and b"evil" not in r.content


def test_public_url_wins_over_client_headers(app_settings: Settings) -> None:
    settings = dataclasses.replace(app_settings, public_url="https://map.example.gov.cn/onemap")
    with make_client(settings) as client:
        for path, params in CAPABILITIES:
            r = client.get(path, params=params, headers={"X-Forwarded-Host": "evil.example"})
            assert r.status_code == 200
            assert b"https://map.example.gov.cn/onemap/" in r.content
            assert b"evil" not in r.content and b"testserver" not in r.content


def _cors_headers(response: object) -> dict[str, str]:
    headers = response.headers  # type: ignore[attr-defined]
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("access-control-")}


ORIGIN = "https://viewer.example"
ANSWERS = [
    ("/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}),
    ("/wms", {"SERVICE": "WMS", "REQUEST": "GetMap"}),  # a service exception
    ("/wmts/1.0.0/WMTSCapabilities.xml", {}),
    ("/wmts/plan/webmercator/02/3/1.png", {}),
    ("/internal/wms", {"SERVICE": "WMS", "REQUEST": "GetCapabilities"}),
    ("/internal/wmts/1.0.0/WMTSCapabilities.xml", {}),
]


def test_no_cors_headers_without_cors_origins(wms_app: TestClient, auth: dict[str, str]) -> None:
    for path, params in ANSWERS:
        r = wms_app.get(path, params=params, headers={**auth, "Origin": ORIGIN})
        assert r.status_code in (200, 400), (path, r.text)
        assert _cors_headers(r) == {}, path


def test_cors_headers_are_the_servers_for_its_origin_only(
    app_settings: Settings, auth: dict[str, str]
) -> None:
    settings = dataclasses.replace(app_settings, cors_origins=(ORIGIN,))
    with make_client(settings) as client:
        for path, params in ANSWERS:
            r = client.get(path, params=params, headers={**auth, "Origin": ORIGIN})
            assert r.status_code in (200, 400), (path, r.text)
            assert r.headers["access-control-allow-origin"] == ORIGIN, path
            assert "ETag" in r.headers["access-control-expose-headers"]  # the app's CORS
            other = client.get(path, params=params, headers={**auth, "Origin": "https://x.org"})
            assert "access-control-allow-origin" not in other.headers, path
            no_origin = client.get(path, params=params, headers=auth)
            assert _cors_headers(no_origin) == {}, path
