"""Two releases built once from the clean sample (the second with `--only hl`), and servers on
them. Each test gets its own tiles folder whose `releases` links to the built ones, so a test may
switch `current` without touching another's.

The releases hold five of the sample's layers (admin, red line, urban boundary, rivers and the
internal `spxm`), not all thirteen: the server does not care how many layers an archive holds,
and the full build would take ~45 s of the ~2 minutes these tests may use on 2 cores.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from publish.tiles.archive import Archive
from tests.server.helpers import (
    Built,
    Probe,
    TestClient,
    find_empty_tile,
    find_tile,
    make_client,
    point_current,
)

SERVED_LAYERS = ("xzq_xian", "stbhhx", "czkfbj", "hl", "spxm")


@pytest.fixture(scope="session")
def built_releases(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("server")
    catalog = root / "layers.yml"
    doc = yaml.safe_load((sample_dir / "layers.yml").read_text(encoding="utf-8"))
    doc.pop("indicators", None)  # the sample's indicator model names layers left out here
    doc["layers"] = [
        {**layer, "source": str(sample_dir / layer["source"])}
        for layer in doc["layers"]
        if layer["id"] in SERVED_LAYERS
    ]
    catalog.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    out = root / "tiles"
    reporter = Reporter(io.StringIO(), rich=False)
    first = build(BuildOptions(catalog=catalog, out=out), reporter)
    second = build(BuildOptions(catalog=catalog, out=out, only=("hl",)), reporter)
    assert first.release_id != second.release_id
    return Built(out, first.release_id, second.release_id)


@pytest.fixture(scope="session")
def probe(built_releases: Built) -> Probe:
    public = built_releases.archive_path(built_releases.first, "public")
    internal = built_releases.archive_path(built_releases.first, "internal")
    with Archive(public) as archive:
        maxzoom = archive.maxzoom
    return Probe(
        internal_only=find_tile(internal, 10, layer="spxm"),
        public=find_tile(public, 8),
        empty=find_empty_tile(public, maxzoom),
        maxzoom=maxzoom,
    )


@pytest.fixture
def tiles_dir(built_releases: Built, tmp_path: Path) -> Path:
    """A tiles folder of this test's own: releases/ shared (read-only), current → first."""
    out = tmp_path / "tiles"
    out.mkdir()
    (out / "releases").symlink_to(built_releases.out / "releases")
    point_current(out, built_releases.first)
    return out


@pytest.fixture
def token(tmp_path: Path) -> str:
    value = new_token()
    append_token_hash(tmp_path / "tokens", value)
    return value


@pytest.fixture
def settings(tiles_dir: Path, tmp_path: Path, token: str) -> Settings:
    return Settings(
        tiles_dir=tiles_dir,
        cache_max_age=600,
        cors_origins=("https://map.example.gov.cn",),
        tokens_file=tmp_path / "tokens",
        reload_interval_s=0.2,
        tile_cache_bytes=4 * 1024 * 1024,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings) as c:
        yield c


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
