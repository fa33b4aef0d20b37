"""Fixtures for the OGC API tests: the server tests' release (built once per session from the
clean sample; five layers, `spxm` internal), its servers, and the sample's source layers to count
against.

The release fixtures are the server tests' own (tests/server/conftest.py), imported so that the
OGC tests run alone or with them; run together, each directory builds its release once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import geopandas as gpd
import pytest

from publish.catalog import load_catalog
from publish.pipeline.build import BuildResult
from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from publish.sources import read_layer
from tests.server.conftest import (  # noqa: F401  (fixtures)
    auth,
    built_releases,
    client,
    settings,
    tiles_dir,
    token,
)
from tests.server.helpers import Built, TestClient, make_client, point_current, serve

PUBLIC = ("xzq_xian", "stbhhx", "czkfbj", "hl")
INTERNAL_ONLY = ("spxm",)


@pytest.fixture(scope="session")
def source(sample_dir: Path) -> Callable[[str], gpd.GeoDataFrame]:
    """A layer of the sample as the build read it (EPSG:4326); fid = row number + 1."""
    catalog = load_catalog(sample_dir / "layers.yml")

    @cache
    def read(layer_id: str) -> gpd.GeoDataFrame:
        frame = read_layer(catalog.layer(layer_id))
        frame.index = frame.index + 1
        return frame

    return read


@pytest.fixture(scope="module")
def server(
    built_releases: Built,  # noqa: F811  (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """(base URL, token) of a real server (`python -m publish serve`) on the first release."""
    root = tmp_path_factory.mktemp("ogc-server")
    tiles = root / "tiles"
    tiles.mkdir()
    (tiles / "releases").symlink_to(built_releases.out / "releases")
    point_current(tiles, built_releases.first)
    value = new_token()
    append_token_hash(root / "tokens", value)
    with serve(tiles, root / "tokens", root / "server.log") as (base, _proc):
        yield base, value


@pytest.fixture(scope="module")
def full_client(
    full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client on the session's full release (all 13 layers, read-only) and the headers that
    reach /internal/ogc."""
    root = tmp_path_factory.mktemp("full-client")
    value = new_token()
    append_token_hash(root / "tokens", value)
    served = Settings(
        tiles_dir=full_release.path.parent.parent,
        tokens_file=root / "tokens",
        cache_max_age=600,
        reload_interval_s=5,
    )
    with make_client(served) as c:
        yield c, {"Authorization": f"Bearer {value}"}


@pytest.fixture(scope="session")
def feature_table(full_release: BuildResult) -> Callable[[str, str], gpd.GeoDataFrame]:
    """A layer's table in the full release's feature store, read with GDAL (not our reader),
    indexed by fid: what the OGC API's answers are checked against."""

    @cache
    def read(layer_id: str, audience: str = "public") -> gpd.GeoDataFrame:
        path = full_release.path / "features" / f"{audience}.gpkg"
        return gpd.read_file(path, layer=layer_id, fid_as_index=True)

    return read
