"""The build tests read the session's full release (tests/conftest.py), read-only."""

from __future__ import annotations

import pytest

from publish.pipeline.build import BuildResult


@pytest.fixture(scope="session")
def built(full_release: BuildResult) -> BuildResult:
    return full_release
