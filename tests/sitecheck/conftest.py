"""A release built once from the clean sample, and its two site stores (read-only)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from publish.build.pipeline import BuildOptions, build
from publish.build.progress import Reporter
from publish.sitecheck.store import SiteStore, open_site_store


@pytest.fixture(scope="session")
def release(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sitecheck")
    result = build(
        BuildOptions(catalog=sample_dir / "layers.yml", out=out),
        Reporter(io.StringIO(), rich=False),
    )
    return result.path


@pytest.fixture(scope="session")
def public_store(release: Path) -> SiteStore:
    return open_site_store(release / "features" / "public.gpkg", release / "catalog.yml")


@pytest.fixture(scope="session")
def internal_store(release: Path) -> SiteStore:
    return open_site_store(release / "features" / "internal.gpkg", release / "catalog.yml")
