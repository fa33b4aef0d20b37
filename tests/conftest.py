"""Shared fixtures: the samples are generated once per test session, small enough to be quick,
and the clean sample is built once into a full release that every test directory may read (never
write: a test that switches `current` or edits files makes its own tiles folder)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from publish.sample.generate import generate

    out = tmp_path_factory.mktemp("sample")
    generate(out, parcels=2_000, seed=7)
    return out


@pytest.fixture(scope="session")
def defective_sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from publish.sample.generate import generate

    out = tmp_path_factory.mktemp("defective")
    generate(out, parcels=2_000, seed=7, with_defects=True)
    return out


@pytest.fixture(scope="session")
def full_release(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The clean sample (all 13 layers) built once: `.path` is the release folder, its parent's
    parent the tiles folder with `current` pointing at it. Read-only."""
    from publish.pipeline.build import BuildOptions, build
    from publish.pipeline.progress import Reporter

    out = tmp_path_factory.mktemp("tiles")
    return build(
        BuildOptions(catalog=sample_dir / "layers.yml", out=out),
        Reporter(io.StringIO(), rich=False),
    )
