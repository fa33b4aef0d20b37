"""Fixtures for the release tests: the server tests' two releases (tests/server/conftest.py,
built once per session from the clean sample), imported so that `release push` can be tested on
them alone or with the server tests; the nodes pushed to."""

from pathlib import Path

import pytest

from tests.server.conftest import built_releases  # noqa: F401  (fixture)


@pytest.fixture
def nodes(tmp_path: Path) -> tuple[Path, Path]:
    """Two new nodes' tiles folders, empty."""
    a, b = tmp_path / "node-a", tmp_path / "node-b"
    a.mkdir()
    b.mkdir()
    return a, b
