"""GET /raster/{audience}/{z}/{x}/{y}.png in process, on the session's full release: the whole
map rendered from the release's style, the audience rules and deliberate status codes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from publish.tiles.archive import Archive
from tests.server.helpers import TestClient, make_client
from tests.wms.helpers import all_transparent, image, near, xyz_tile


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    value = new_token()
    path = tmp_path_factory.mktemp("raster") / "tokens"
    append_token_hash(path, value)
    return value, path


@pytest.fixture(scope="module")
def client(full_release: Any, token: tuple[str, Path]) -> Iterator[TestClient]:
    settings = Settings(tiles_dir=full_release.path.parents[1], tokens_file=token[1])
    with make_client(settings) as c:
        yield c


def test_red_line_is_drawn_in_its_colour(client: TestClient, full_release: Any) -> None:
    red = gpd.read_file(full_release.path / "features" / "public.gpkg", layer="stbhhx")
    ring = max(red.geometry.values, key=lambda g: g.area)
    point = ring.boundary.interpolate(0.37, normalized=True)
    x, y, px, py = xyz_tile(point.x, point.y, 13)
    r = client.get(f"/raster/public/13/{x}/{y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["x-onemap-release"] == full_release.release_id
    assert near(image(r.content), px, py, (230, 0, 0), radius=3)
    again = client.get(
        f"/raster/public/13/{x}/{y}.png", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304


def test_status_codes(client: TestClient, full_release: Any) -> None:
    with Archive(full_release.path / "tiles" / "public.pmtiles") as archive:
        west, south, _east, _north = archive.bounds
    x, y, _px, _py = xyz_tile(west + 1e-4, south + 1e-4, 13)
    corner = client.get(f"/raster/public/13/{x}/{y}.png")  # inside the bounds, outside the city
    assert corner.status_code == 200 and all_transparent(image(corner.content))
    assert client.get("/raster/public/10/0/0.png").status_code == 404  # outside the bounds
    assert client.get(f"/raster/public/19/{x << 6}/{y << 6}.png").status_code == 404  # too deep
    assert client.get("/raster/public/10/1024/0.png").status_code == 400
    assert client.get("/raster/public/10/1/0.jpg").status_code == 400
    assert client.get("/raster/public/z/1/0.png").status_code == 400
    assert client.get("/raster/nobody/10/1/0.png").status_code == 404
    assert client.post("/raster/public/10/1/0.png").status_code == 405


def test_internal_needs_the_token(client: TestClient, token: tuple[str, Path]) -> None:
    n = 1 << 8
    x = int((110.5 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(29.2))) / math.pi) / 2 * n)
    path = f"/raster/internal/8/{x}/{y}.png"
    assert client.get(path).status_code == 401
    r = client.get(path, headers={"Authorization": f"Bearer {token[0]}"})
    assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
    assert client.get(path, auth=("staff", token[0])).status_code == 200
