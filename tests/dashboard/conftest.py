"""Fixtures of the dashboard's tests: three releases of the sample city (revisions 1, 2 and 3 of
the full sample, with its own indicator model) in one tiles folder, each with the monitoring and
conflicts files the build wrote; a folder whose current release has none (built from a catalog
without the model); a token; a server and Chromium for the page.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.sample.generate import generate
from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from tests.server.helpers import TestClient, catalog_subset, make_client
from tests.viewer.browser import Server, serve
from tests.viewer.conftest import browser, new_page, shots

__all__ = ["browser", "new_page", "shots"]  # the viewer tests' Chromium fixtures, shared

PARCELS, SEED = 2_000, 7  # the session's sample_dir is revision 1 of the same city
# the internal layer and the sample's internal indicator (access: internal, on spxm)
INTERNAL_WORDS = ("spxm", "在审建设项目", "projects_under_review", "在审项目用地面积")
INTERNAL_INDICATOR = "projects_under_review"


@dataclass(frozen=True)
class Releases:
    tiles: Path  # current → the third release
    ids: tuple[str, ...]  # oldest first
    bare: Path  # a tiles folder whose current release has no monitoring
    tokens: Path
    token: str

    def release(self, rid: str) -> Path:
        return self.tiles / "releases" / rid


@pytest.fixture(scope="session")
def releases(
    sample_dir: Path, full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Releases:
    """Revision 1 is the session's full release (its tiles folder copied, layer cache and all,
    so revisions 2 and 3 are built over it and carry deltas against it); the bare folder is a
    build of the counties alone from a catalog without the indicator model."""
    root = tmp_path_factory.mktemp("dashboard")
    tiles, bare = root / "tiles", root / "bare"
    shutil.copytree(full_release.path.parents[1], tiles, symlinks=True)
    reporter = Reporter(io.StringIO(), rich=False)
    ids = [full_release.release_id]
    for revision in (2, 3):
        sample = root / f"revision{revision}"
        generate(sample, parcels=PARCELS, seed=SEED, revision=revision)
        options = BuildOptions(catalog=sample / "layers.yml", out=tiles, note=f"第{revision}版")
        ids.append(build(options, reporter).release_id)
    catalog = catalog_subset(sample_dir, ("xzq_xian",), root / "bare.yml")
    build(BuildOptions(catalog=catalog, out=bare), reporter)
    token = new_token()
    append_token_hash(root / "tokens", token)
    return Releases(tiles, tuple(ids), bare, root / "tokens", token)


@pytest.fixture(scope="module")
def client(releases: Releases) -> Iterator[TestClient]:
    with make_client(Settings(tiles_dir=releases.tiles, tokens_file=releases.tokens)) as c:
        yield c


@pytest.fixture(scope="module")
def auth(releases: Releases) -> dict[str, str]:
    return {"Authorization": f"Bearer {releases.token}"}


@pytest.fixture(scope="session")
def dashboard_server(
    releases: Releases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("dashboard-serve") / "serve.log"
    with serve(releases.tiles, releases.tokens, releases.token, log) as server:
        yield server


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
