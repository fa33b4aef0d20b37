"""Fixtures of the dashboard's tests: three releases of the sample city (revisions 1, 2 and 3,
six of its layers: counties, the three control lines' red line, urban boundary and farmland, the
current land use and the internal projects) built into one tiles folder, each with its
monitoring and conflicts files; a folder whose current release has none; a token; a server and
Chromium for the page.

STAND-IN: until the indicator model and the conflicts of issue 14 land, the files come from
tests/dashboard/standin.py (only where a release has no `monitoring` entry of its own); the
lead removes that module and the `add_monitoring` calls below when the model writes them.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from publish.sample.generate import generate
from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from tests.dashboard.standin import add_monitoring
from tests.server.helpers import TestClient, catalog_subset, make_client, point_current
from tests.viewer.browser import Server, serve
from tests.viewer.conftest import browser, new_page, shots

__all__ = ["browser", "new_page", "shots"]  # the viewer tests' Chromium fixtures, shared

PARCELS, SEED = 2_000, 7  # the session's sample_dir is revision 1 of the same city
LAYERS = ("xzq_xian", "stbhhx", "czkfbj", "yjjbnt", "dltb", "spxm")
INTERNAL_WORDS = ("spxm", "在审建设项目", "approved_projects")  # the internal layer and indicator


@dataclass(frozen=True)
class Releases:
    tiles: Path  # current → the third release
    ids: tuple[str, ...]  # oldest first
    bare: Path  # a tiles folder whose current release (the first) has no monitoring
    tokens: Path
    token: str

    def release(self, rid: str) -> Path:
        return self.tiles / "releases" / rid


def _link_copy(release: Path, tiles: Path) -> None:
    """`release` as the current release of `tiles`, by hard links (before the stand-in adds
    its files: the manifest is replaced, never rewritten in place, so the copy keeps its own)."""
    target = tiles / "releases" / release.name
    for path in sorted(release.rglob("*")):
        dest = target / path.relative_to(release)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, dest)
    point_current(tiles, release.name)


@pytest.fixture(scope="session")
def releases(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Releases:
    root = tmp_path_factory.mktemp("dashboard")
    tiles, bare = root / "tiles", root / "bare"
    reporter = Reporter(io.StringIO(), rich=False)
    ids: list[str] = []
    targets = None
    for revision in (1, 2, 3):
        sample = sample_dir
        if revision > 1:
            sample = root / f"revision{revision}"
            generate(sample, parcels=PARCELS, seed=SEED, revision=revision)
        catalog = catalog_subset(sample, LAYERS, root / f"layers{revision}.yml")
        note = f"第{revision}版"
        result = build(BuildOptions(catalog=catalog, out=tiles, note=note), reporter)
        if revision == 1:
            _link_copy(result.path, bare)
        targets = add_monitoring(result.path, targets)  # STAND-IN (see the module docstring)
        ids.append(result.release_id)
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
