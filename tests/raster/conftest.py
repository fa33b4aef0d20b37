"""Fixtures for the raster tests that run a real server: the server tests' releases
(tests/server/conftest.py) behind a tiles folder of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.server.auth import append_token_hash, new_token
from tests.server.conftest import built_releases  # noqa: F401  (fixture)
from tests.server.helpers import Built, point_current


@pytest.fixture
def served_tiles(built_releases: Built, tmp_path: Path) -> tuple[Path, Path]:  # noqa: F811
    """A tiles folder whose current release is the first built one, and a tokens file."""
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    (tiles / "releases").symlink_to(built_releases.out / "releases")
    point_current(tiles, built_releases.first)
    append_token_hash(tmp_path / "tokens", new_token())
    return tiles, tmp_path / "tokens"
