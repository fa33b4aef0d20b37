"""Host header poisoning (issue 16): links are built from the public URL when set, otherwise
only from a configured host; X-Forwarded-Host is never taken from a client."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from publish.server.hosts import HostCheck
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


def test_a_real_server_refuses_foreign_hosts_and_honours_proxies_it_trusts(
    built_releases, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("")
    forwarded = {"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}
    with serve(built_releases.out, tokens, tmp_path / "log") as (base, _):
        ok = httpx.get(f"{base}/ogc/collections?f=json")
        assert ok.status_code == 200 and base + "/ogc/collections" in ok.text
        bad = httpx.get(f"{base}/ogc/collections?f=json", headers={"Host": EVIL})
        assert bad.status_code == 400
        # from 127.0.0.1, uvicorn's default trusted proxy: the scheme is taken, never the host
        doc = httpx.get(f"{base}/tiles/public.json", headers=forwarded)
        assert doc.status_code == 200 and EVIL not in doc.text
        assert doc.json()["tiles"][0].startswith("https://127.0.0.1:")
    untrusted = {"PUBLISH_TRUSTED_PROXIES": "10.9.8.7"}
    with serve(built_releases.out, tokens, tmp_path / "log2", settings_env=untrusted) as (base, _):
        doc = httpx.get(f"{base}/tiles/public.json", headers=forwarded)
        assert doc.json()["tiles"][0].startswith("http://127.0.0.1:")  # not from a stranger


@pytest.mark.parametrize(
    "allowed",
    [
        ["127.0.0.1", "localhost", "[::1]"],
        ["*.example.gov.cn", "map.example.org"],
        ["*"],
    ],
)
def test_the_fast_path_s_host_check_is_the_stack_s(allowed: list[str]) -> None:
    """HostCheck (the tile fast path's) gives TrustedHostMiddleware's verdict for each Host."""
    import anyio
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import Response

    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await Response("ok")(scope, receive, send)

    stack = TrustedHostMiddleware(ok, allowed_hosts=allowed, www_redirect=False)
    check = HostCheck(allowed)
    hosts: list[bytes | None] = [
        b"127.0.0.1", b"127.0.0.1:8000", b"localhost", b"LocalHost:80", b"[::1]:8000",
        b"[::1", b"evil.example", b"localhost.evil.example", b"", b"local host", None,
        b"map.example.org", b"a.map.example.gov.cn", b"example.gov.cn", b"xexample.gov.cn",
    ]  # fmt: skip
    for host in hosts:
        headers = [] if host is None else [(b"host", host)]
        scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
        want = _status_of(stack, scope) == 200
        assert anyio.run(check.allows, host) is want, host
        assert check.verdicts.get(host, want) is want, host  # remembered, unless any is allowed


def test_the_host_verdicts_kept_are_bounded() -> None:
    import anyio

    check = HostCheck(["127.0.0.1"])
    for i in range(1000):
        assert anyio.run(check.allows, f"h{i}.example".encode()) is False
    assert 0 < len(check.verdicts) <= 64


def _status_of(app: Any, scope: dict[str, Any]) -> int:
    """The status `app` answers `scope` with, called directly (no client adds a Host)."""
    import anyio

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, dict(scope), receive, send)
    return int(sent[0]["status"])
