"""Audiences: internal paths need a token; on public paths internal layers do not exist."""

from __future__ import annotations

import base64
import gzip
import logging
from pathlib import Path

import pytest

from publish.server.auth import append_token_hash, new_token
from publish.server.errors import WWW_AUTHENTICATE
from publish.tiles.archive import Archive
from tests.server.helpers import Probe, TestClient

INTERNAL_LAYERS = ("spxm",)
UNKNOWN = "no_such_layer"


def internal_urls(probe: Probe) -> list[str]:
    z, x, y = probe.internal_only
    return [
        "/tiles/internal.json",
        f"/tiles/internal/{z}/{x}/{y}.mvt",
        "/tiles/internal/0/0/0.pbf",
        "/tiles/internal/not/a/tile",
        "/tiles/internal.pmtiles",
        "/styles/internal.json",
        "/internal",
        "/internal/ogc",
        "/internal/ogc/collections/spxm/items",
    ]


def basic(password: str, user: str = "qgis") -> dict[str, str]:
    value = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Token abc"},
        {"Authorization": "Basic !!!not-base64"},
        basic("wrong-token"),
    ],
    ids=["none", "wrong-bearer", "empty-bearer", "other-scheme", "bad-basic", "wrong-basic"],
)
def test_internal_paths_without_a_valid_token_are_401(
    client: TestClient, probe: Probe, headers: dict[str, str]
) -> None:
    for url in internal_urls(probe):
        for method in ("GET", "HEAD", "POST"):
            r = client.request(method, url, headers=headers)
            assert r.status_code == 401, (method, url)
            assert r.headers["www-authenticate"] == WWW_AUTHENTICATE
    r = client.get("/tiles/internal.json", headers=headers)
    assert r.json() == {
        "code": "Unauthorized",
        "type": "Unauthorized",
        "description": "a valid token is needed for this path",
    }


def test_bearer_and_basic_tokens_are_accepted(client: TestClient, probe: Probe, token: str) -> None:
    z, x, y = probe.internal_only
    for headers in (
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"bearer {token}"},
        basic(token),
        basic(token, user=""),
    ):
        assert client.get("/tiles/internal.json", headers=headers).status_code == 200
        assert client.get(f"/tiles/internal/{z}/{x}/{y}.mvt", headers=headers).status_code == 200
        assert client.get("/styles/internal.json", headers=headers).status_code == 200
    # past the guard, unknown internal paths are ordinary 404s
    r = client.get("/internal/nothing", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404


def test_tokens_file_is_reread_when_it_changes(
    client: TestClient, tmp_path: Path, token: str
) -> None:
    second = new_token()
    headers = {"Authorization": f"Bearer {second}"}
    assert client.get("/tiles/internal.json", headers=headers).status_code == 401
    append_token_hash(tmp_path / "tokens", second)
    assert client.get("/tiles/internal.json", headers=headers).status_code == 200
    # revoke the first token: keep only the second's line
    lines = (tmp_path / "tokens").read_text().splitlines()
    (tmp_path / "tokens").write_text("# revoked one\n" + lines[-1] + "\n")
    old = {"Authorization": f"Bearer {token}"}
    assert client.get("/tiles/internal.json", headers=old).status_code == 401
    assert client.get("/tiles/internal.json", headers=headers).status_code == 200


def test_tokens_file_holds_only_hashes(tmp_path: Path, token: str) -> None:
    text = (tmp_path / "tokens").read_text()
    assert token not in text
    assert text.startswith("sha256:") and len(text.strip()) == len("sha256:") + 64
    assert (tmp_path / "tokens").stat().st_mode & 0o077 == 0


def test_tokens_never_reach_the_log(
    client: TestClient, probe: Probe, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for headers in ({"Authorization": f"Bearer {token}"}, basic(token), basic(token + "x")):
        for url in internal_urls(probe):
            client.get(url, headers=headers)
    assert token not in caplog.text
    assert base64.b64encode(f"qgis:{token}".encode()).decode() not in caplog.text


def test_internal_layer_ids_do_not_exist_on_public_paths(client: TestClient) -> None:
    def bodies(name: str) -> list[tuple[int, str]]:
        return [
            (r.status_code, r.text)
            for r in (
                client.get(f"/tiles/{name}.json"),
                client.get(f"/tiles/{name}/0/0/0.mvt"),
                client.get(f"/tiles/{name}/0/0/0.pbf"),
                client.get(f"/tiles/{name}.pmtiles"),
                client.get(f"/styles/{name}.json"),
            )
        ]

    unknown = bodies(UNKNOWN)
    assert {status for status, _ in unknown} == {404}
    for layer in INTERNAL_LAYERS:
        assert bodies(layer) == unknown
        for text in (t for _, t in bodies(layer)):
            assert layer not in text


def test_no_public_document_or_tile_mentions_an_internal_layer(
    client: TestClient, tmp_path: Path
) -> None:
    for url in ("/tiles/public.json", "/styles/public.json", "/healthz"):
        r = client.get(url)
        assert r.status_code == 200
        for layer in INTERNAL_LAYERS:
            assert layer not in r.text, url
        assert "/internal" not in r.text
    archive = tmp_path / "public.pmtiles"
    archive.write_bytes(client.get("/tiles/public.pmtiles").content)
    with Archive(archive) as a:
        assert all(la["id"] not in INTERNAL_LAYERS for la in a.metadata()["vector_layers"])
        tiles = 0
        for _z, _x, _y, data in a.iter_tiles():
            raw = gzip.decompress(data)
            for layer in INTERNAL_LAYERS:
                assert layer.encode() not in raw
            tiles += 1
    assert tiles > 10


@pytest.mark.parametrize(
    "url",
    [
        "/tiles/public/../internal.json",
        "/tiles/public/../../styles/internal.json",
        "/tiles/%69nternal.json",
        "/TILES/internal.json",
        "/tiles/internal%2Ejson",
        "/styles/public/../internal.json",
    ],
)
def test_path_tricks_never_reach_internal_content(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code in (401, 404), url
    assert "spxm" not in r.text
