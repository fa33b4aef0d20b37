"""Tokens: hashing, parsing Authorization headers, the tokens file."""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

import pytest

from publish.app import route_table
from publish.server.auth import (
    TokenStore,
    append_token_hash,
    hash_token,
    new_token,
    parse_token_hashes,
    token_from_authorization,
)
from publish.server.guard import InternalPaths


def test_new_tokens_are_random_and_long() -> None:
    tokens = {new_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 43 for t in tokens)


def test_hash_format() -> None:
    assert hash_token("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc ", "abc"),
        ("Basic " + base64.b64encode(b"user:abc").decode(), "abc"),
        ("Basic " + base64.b64encode(b":abc:def").decode(), "abc:def"),
        ("Basic " + base64.b64encode(b"abc").decode(), None),  # no password
        ("Basic " + base64.b64encode(b"user:").decode(), None),
        ("Basic ***", None),
        ("Bearer", None),
        ("Digest abc", None),
        ("", None),
        (None, None),
    ],
)
def test_token_from_authorization(header: str | None, token: str | None) -> None:
    assert token_from_authorization(header) == token


def test_parse_skips_comments_labels_and_junk(caplog: pytest.LogCaptureFixture) -> None:
    good = hashlib.sha256(b"t").hexdigest()
    text = f"# tokens\n\nsha256:{good}  desktop QGIS\nsha256:xyz\nplain-token\nSHA256:{good}\n"
    with caplog.at_level(logging.WARNING):
        assert parse_token_hashes(text) == {good}
    assert "line 4" in caplog.text and "line 5" in caplog.text
    assert "plain-token" not in caplog.text  # a token pasted by mistake is not echoed


def test_store_rereads_and_handles_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    store = TokenStore(path)
    assert not store.is_valid("a")
    append_token_hash(path, "a")
    assert store.is_valid("a") and not store.is_valid("b")
    append_token_hash(path, "b")
    assert store.is_valid("b") and len(store) == 2
    path.unlink()
    assert not store.is_valid("a")
    assert not TokenStore(None).is_valid("a")
    assert not store.is_valid("") and not store.is_valid(None)


def test_append_adds_a_missing_newline(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# no newline at the end")
    append_token_hash(path, "a")
    assert path.read_text().splitlines() == ["# no newline at the end", hash_token("a")]


@pytest.mark.parametrize(
    ("path", "internal"),
    [
        ("/internal", True),
        ("/internal/ogc/collections", True),
        ("/tiles/internal.json", True),
        ("/tiles/internal/1/2/3.mvt", True),
        ("/tiles/internal.pmtiles", True),
        ("/tiles/internal", True),
        ("/styles/internal.json", True),
        ("/internals", False),
        ("/tiles/public.json", False),
        ("/tiles/internally.json", False),
        ("/styles/public.json", False),
        ("/ogc/collections/internal", False),
        ("/releases/20261128T140102Z-1a2b3c4d/tiles/internal.json", True),
        ("/releases/20261128T140102Z-1a2b3c4d/tiles/internal/1/2/3.mvt", True),
        ("/releases/any/styles/internal.json", True),
        ("/releases/any/tiles/public.json", False),
        ("/releases/any/tiles/internally.json", False),
        ("/releases/a/b/tiles/internal.json", False),
        ("/indicators/internal.json", True),
        ("/indicators/internal.xlsx", True),
        ("/indicators/public.csv", False),
        ("/internal/dashboard", True),  # guarded, but an open page (publish.server.guard)
    ],
)
def test_internal_paths(path: str, internal: bool) -> None:
    assert (path in InternalPaths.from_routes(route_table())) is internal


def test_internal_paths_come_from_the_routes() -> None:
    """A new route is guarded by its path alone: nothing else lists internal prefixes."""
    from starlette.routing import Mount, Route

    async def nothing(request: object) -> None:  # pragma: no cover - never called
        return None

    table = [
        *route_table(),
        Route("/reports/{audience}/{id}", nothing),
        Mount("/internal/reviews", routes=[Route("/{id}", nothing)]),
    ]
    internal = InternalPaths.from_routes(table)
    assert "/reports/internal/7" in internal and "/reports/public/7" not in internal
    assert "/internal/reviews/7" in internal
    assert "/reports/internal/7" not in InternalPaths.from_routes(route_table())
    assert set(InternalPaths.from_routes(route_table()).prefixes) == {
        "/indicators/internal",
        "/internal",
        "/raster/internal",
        "/releases/{release}/styles/internal",
        "/releases/{release}/tiles/internal",
        "/styles/internal",
        "/tiles/internal",
    }
