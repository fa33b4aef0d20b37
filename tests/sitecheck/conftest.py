"""The session's full release (tests/conftest.py) and its two site stores (read-only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.pipeline.build import BuildResult
from publish.sitecheck.store import SiteStore, open_site_store


@pytest.fixture(scope="session")
def release(full_release: BuildResult) -> Path:
    return full_release.path


@pytest.fixture(scope="session")
def public_store(release: Path) -> SiteStore:
    return open_site_store(release / "features" / "public.gpkg", release / "catalog.yml")


@pytest.fixture(scope="session")
def internal_store(release: Path) -> SiteStore:
    return open_site_store(release / "features" / "internal.gpkg", release / "catalog.yml")
