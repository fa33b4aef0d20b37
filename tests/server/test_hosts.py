"""Host header poisoning (issue 16): links are built from the public URL when set, otherwise
only from a configured host; X-Forwarded-Host is never taken from a client."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from publish.server.settings import Settings
from tests.server.helpers import make_client, serve

EVIL = "evil.example"


@pytest.mark.parametrize("path", ["/ogc", "/ogc/collections", "/tiles/public.json", "/"])
def test_an_unknown_host_is_refused(settings: Settings, path: str) -> None:
    with make_client(settings) as client:
        r = client.get(path, headers={"Host": EVIL}, follow_redirects=False)
    assert r.status_code == 400
    assert EVIL not in r.text and EVIL not in r.headers.get("location", "")


def test_default_hosts_are_the_loopback_names() -> None:
    assert Settings(tiles_dir=Path("/srv")).hosts == ["127.0.0.1", "localhost", "[::1]"]
    with_url = Settings(tiles_dir=Path("/srv"), public_url="https://map.example.gov.cn/onemap")
    assert "map.example.gov.cn" in with_url.hosts


def test_the_public_url_wins_over_any_allowed_host(settings: Settings) -> None:
    fixed = replace(settings, public_url="https://map.example.gov.cn", allowed_hosts=("*",))
    with make_client(fixed) as client:
        redirect = client.get("/ogc", headers={"Host": EVIL}, follow_redirects=False)
        collections = client.get("/ogc/collections?f=json", headers={"Host": EVIL})
    assert redirect.headers["location"] == "https://map.example.gov.cn/ogc/"
    assert EVIL not in collections.text
    assert "https://map.example.gov.cn/ogc/collections" in collections.text


def test_x_forwarded_host_is_ignored(settings: Settings) -> None:
    with make_client(settings) as client:
        for path in ("/ogc/collections?f=json", "/tiles/public.json", "/styles/public.json"):
            r = client.get(path, headers={"X-Forwarded-Host": EVIL})
            assert r.status_code == 200 and EVIL not in r.text, path


def test_a_real_server_refuses_foreign_hosts_and_trusts_no_proxy_by_default(
    built_releases, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("")
    with serve(built_releases.out, tokens, tmp_path / "log") as (base, _):
        ok = httpx.get(f"{base}/ogc/collections?f=json")
        assert ok.status_code == 200 and base + "/ogc/collections" in ok.text
        bad = httpx.get(f"{base}/ogc/collections?f=json", headers={"Host": EVIL})
        assert bad.status_code == 400
        # a client (here from 127.0.0.1, uvicorn's only trusted proxy) may set the scheme,
        # never the host
        forwarded = httpx.get(
            f"{base}/tiles/public.json",
            headers={"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"},
        )
        assert forwarded.status_code == 200 and EVIL not in forwarded.text
