"""CORS comes from the settings only (issue 16): no origins configured, no CORS header on any
answer; configured origins get them; `*` opens public answers, never internal ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from publish.server.settings import Settings
from tests.server.helpers import Probe, make_client

ORIGIN = "https://map.example.gov.cn"  # the `settings` fixture's origin
OTHER = "https://elsewhere.example"


def _paths(probe: Probe) -> list[tuple[str, bool]]:
    z, x, y = probe.public
    return [
        ("/ogc/collections?f=json", False),
        ("/ogc/collections/stbhhx/items?limit=1", False),
        ("/tiles/public.json", False),
        ("/styles/public.json", False),
        (f"/tiles/public/{z}/{x}/{y}.mvt", False),
        ("/wms?SERVICE=WMS&REQUEST=GetCapabilities", False),
        ("/wmts/1.0.0/WMTSCapabilities.xml", False),
        ("/internal/ogc/collections?f=json", True),
        (f"/tiles/internal/{z}/{x}/{y}.mvt", True),
        ("/internal/wms?SERVICE=WMS&REQUEST=GetCapabilities", True),
        ("/internal/wmts/1.0.0/WMTSCapabilities.xml", True),
    ]


def test_no_origins_no_cors_headers(settings: Settings, probe: Probe, auth: dict[str, str]) -> None:
    with make_client(replace(settings, cors_origins=())) as client:
        for path, _ in _paths(probe):
            r = client.get(path, headers={**auth, "Origin": ORIGIN})
            assert r.status_code == 200, path
            assert not [h for h in r.headers if h.startswith("access-control-")], path


def test_configured_origin_only(settings: Settings, probe: Probe, auth: dict[str, str]) -> None:
    with make_client(settings) as client:
        for path, _ in _paths(probe):
            ours = client.get(path, headers={**auth, "Origin": ORIGIN})
            assert ours.headers.get("access-control-allow-origin") == ORIGIN, path
            other = client.get(path, headers={**auth, "Origin": OTHER})
            assert "access-control-allow-origin" not in other.headers, path


def test_any_origin_opens_public_answers_only(
    settings: Settings, probe: Probe, auth: dict[str, str]
) -> None:
    with make_client(replace(settings, cors_origins=("*",))) as client:
        for path, internal in _paths(probe):
            r = client.get(path, headers={**auth, "Origin": OTHER})
            allowed = r.headers.get("access-control-allow-origin")
            assert allowed is None if internal else allowed == "*", (path, allowed)
        preflight = client.options(
            "/internal/ogc/collections",
            headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers.get("access-control-allow-origin") is None


def test_named_and_any_origin(settings: Settings, probe: Probe, auth: dict[str, str]) -> None:
    both = replace(settings, cors_origins=("*", ORIGIN))
    with make_client(both) as client:
        for path, internal in _paths(probe):
            named = client.get(path, headers={**auth, "Origin": ORIGIN})
            assert named.headers.get("access-control-allow-origin") in (ORIGIN, "*"), path
            other = client.get(path, headers={**auth, "Origin": OTHER})
            expected = None if internal else "*"
            assert other.headers.get("access-control-allow-origin") == expected, path


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_preflight_for_the_site_check(settings: Settings, method: str) -> None:
    with make_client(settings) as client:
        r = client.options(
            "/ogc/processes/site-check/execution",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type",
            },
        )
    assert r.status_code == 200
    assert method in r.headers["access-control-allow-methods"]
