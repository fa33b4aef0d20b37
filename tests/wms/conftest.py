"""A real server (uvicorn, `python -m publish serve`) on the session's full release, in a tiles
folder of its own (its raster caches are written there, never into the shared one), the same
app in-process (a TestClient, for what needs settings or the server's logs), and places in the
sample whose colours the style says."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pytest
import shapely

from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from tests.server.helpers import TestClient, make_client
from tests.server.test_uvicorn import serve
from tests.wms.helpers import Place, Probes, hex_rgb, land_use_colour, style_paint

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult


@pytest.fixture(scope="session")
def wms_token() -> str:
    return new_token()


def tiles_folder(full_release: BuildResult, parent: Path) -> Path:
    """A tiles folder of its own (`current` → the full release) for a server's raster caches."""
    out = parent / "tiles"
    out.mkdir()
    (out / "releases").symlink_to(full_release.path.parent)
    os.symlink(f"releases/{full_release.release_id}", out / "current")
    return out


@pytest.fixture(scope="session")
def wms_tiles(full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiles_folder(full_release, tmp_path_factory.mktemp("wms"))


@pytest.fixture(scope="session")
def wms_tokens(wms_token: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokens = tmp_path_factory.mktemp("wms-tokens") / "tokens"
    append_token_hash(tokens, wms_token)
    return tokens


@pytest.fixture(scope="session")
def app_settings(
    full_release: BuildResult, wms_tokens: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings of an in-process server on the full release (its own tiles folder)."""
    tiles = tiles_folder(full_release, tmp_path_factory.mktemp("wms-app"))
    return Settings(tiles_dir=tiles, tokens_file=wms_tokens)


@pytest.fixture(scope="session")
def wms_app(app_settings: Settings) -> Iterator[TestClient]:
    """A TestClient on the in-process server of `app_settings`."""
    with make_client(app_settings) as client:
        yield client


@pytest.fixture(scope="session")
def wms_server(
    wms_tiles: Path, wms_tokens: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL of a server on the full release (public and internal)."""
    root = tmp_path_factory.mktemp("wms-server")
    with serve(wms_tiles, wms_tokens, root / "server.log") as (base, _proc):
        yield base


@pytest.fixture(scope="session")
def auth(wms_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {wms_token}"}


@pytest.fixture(scope="session")
def public_style(full_release: BuildResult) -> dict[str, Any]:
    style: dict[str, Any] = json.loads((full_release.path / "styles" / "public.json").read_bytes())
    return style


def _read(gpkg: Path, layer: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(gpkg, layer=layer, fid_as_index=True)
    return frame


@pytest.fixture(scope="session")
def probes(full_release: BuildResult, public_style: dict[str, Any]) -> Probes:
    public = full_release.path / "features" / "public.gpkg"
    internal = full_release.path / "features" / "internal.gpkg"

    land = _read(public, "ydyh").to_crs("EPSG:4546")
    circles = shapely.maximum_inscribed_circle(land.geometry.values, tolerance=1.0)
    radii = shapely.length(circles)
    best = int(radii.argmax())
    assert radii[best] > 60, "no land-use block wide enough to probe"
    centre = shapely.get_point(circles[best], 0)
    lon, lat = gpd.GeoSeries([centre], crs="EPSG:4546").to_crs("EPSG:4326").iloc[0].coords[0]
    code = str(land.iloc[best]["YDYHFLDM"])
    land_place = Place(lon, lat, land_use_colour(public_style, code), "ydyh", code)

    red = _read(public, "stbhhx")
    polygon = max(red.geometry.values, key=lambda g: g.area)
    ring = max(shapely.get_parts(polygon), key=lambda g: g.area).exterior
    point = ring.interpolate(0.37, normalized=True)
    red_place = Place(
        point.x, point.y, hex_rgb(style_paint(public_style, "stbhhx-line", "line-color")), "stbhhx"
    )
    red_fid = int(red.index[[g.equals(polygon) for g in red.geometry.values].index(True)])

    spxm = _read(internal, "spxm")
    inside = spxm.geometry.values[0].representative_point()
    return Probes(
        land_use=land_place,
        red_line=red_place,
        red_line_fid=red_fid,
        land_use_fid=int(land.index[best]),
        land_use_code=code,
        spxm=(inside.x, inside.y),
        nowhere=(108.0, 27.0, 108.2, 27.2),
    )
