"""Shared fixtures: samples are generated once per test session, small enough to be quick."""

from __future__ import annotations

from pathlib import Path

import pytest

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
