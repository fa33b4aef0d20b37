"""A release built once from the clean sample, shared by the build tests (read-only)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from publish.build.pipeline import BuildOptions, BuildResult, build
from publish.build.progress import Reporter


@pytest.fixture(scope="session")
def built(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    out = tmp_path_factory.mktemp("tiles")
    return build(
        BuildOptions(catalog=sample_dir / "layers.yml", out=out),
        Reporter(io.StringIO(), rich=False),
    )
