"""Security headers on every kind of response (issue 16)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from publish.server.headers import CONTENT_SECURITY_POLICY
from publish.server.settings import Settings
from tests.server.helpers import Probe, TestClient, make_client


def _paths(probe: Probe) -> list[tuple[str, bool]]:
    """(path, is internal) for one response of each kind."""
    z, x, y = probe.public
    ez, ex, ey = probe.empty
    return [
        ("/", False),
        ("/internal/", False),
        ("/ogc/?f=html", False),
        ("/ogc/collections/stbhhx?f=html", False),
        ("/ogc/collections?f=json", False),
        ("/ogc/collections/stbhhx/items?limit=1", False),
        (f"/tiles/public/{z}/{x}/{y}.mvt", False),
        (f"/tiles/public/{ez}/{ex}/{ey}.mvt", False),  # 204
        ("/tiles/public/1/5/5.mvt", False),  # 400 from the fast path
        ("/tiles/public.json", False),
        ("/styles/public.json", False),
        ("/healthz", False),
        ("/nowhere", False),  # the router's 404
        ("/ogc/collections/nowhere", False),  # pygeoapi's 404
        ("/tiles/internal.json", False),  # the guard's 401
        (f"/tiles/internal/{z}/{x}/{y}.mvt", True),
        ("/internal/ogc/collections?f=html", True),
    ]


def test_every_response_has_nosniff_and_referrer_policy(
    client: TestClient, probe: Probe, auth: dict[str, str]
) -> None:
    for path, internal in _paths(probe):
        r = client.get(path, headers=auth if internal else {})
        assert r.headers.get("x-content-type-options") == "nosniff", (path, r.status_code)
        assert r.headers.get("referrer-policy") == "same-origin", path
        assert "strict-transport-security" not in r.headers  # http public URL (none)


def test_html_pages_have_a_strict_csp_and_cannot_be_framed(
    client: TestClient, auth: dict[str, str]
) -> None:
    for path in ("/", "/internal/", "/ogc/?f=html", "/internal/ogc/collections/spxm?f=html"):
        r = client.get(path, headers=auth)
        assert r.headers["content-type"].startswith("text/html"), path
        csp = r.headers["content-security-policy"]
        assert csp == CONTENT_SECURITY_POLICY
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"  # no inline script, no other host
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in csp and "http" not in csp
        assert r.headers["x-frame-options"] == "DENY"


def test_json_and_tiles_carry_no_csp(client: TestClient, probe: Probe) -> None:
    z, x, y = probe.public
    for path in ("/ogc/collections?f=json", f"/tiles/public/{z}/{x}/{y}.mvt"):
        assert "content-security-policy" not in client.get(path).headers


def test_hsts_when_the_public_url_is_https(settings: Settings, probe: Probe) -> None:
    z, x, y = probe.public
    https = replace(settings, public_url="https://map.example.gov.cn")
    with make_client(https) as client:
        for path in ("/", "/healthz", f"/tiles/public/{z}/{x}/{y}.mvt", "/nowhere"):
            r = client.get(path)
            assert r.headers["strict-transport-security"].startswith("max-age="), path


def test_an_unexpected_error_has_nosniff() -> None:
    """Starlette's outermost handler answers an unexpected error past every middleware."""
    from publish.server.errors import error_response

    response = error_response(RuntimeError("boom"))
    assert response.status_code == 500
    assert response.headers["x-content-type-options"] == "nosniff"
    assert b"boom" not in bytes(response.body)


@pytest.mark.parametrize("path", ["/<script>", "/ogc/collections/<script>", "/tiles/<b>/1/1/1.mvt"])
def test_nothing_is_echoed_as_html(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (400, 404)
    assert not r.headers.get("content-type", "").startswith("text/html")
    assert "<script>" not in r.text
