"""After a release switch the next map shows the new release: no raster of the old one is
served from a cache, and the old release's caches are removed."""

from __future__ import annotations

import io
import time
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import yaml

from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from publish.server.auth import append_token_hash, new_token
from tests.server.helpers import point_current
from tests.server.test_uvicorn import serve
from tests.wms.helpers import box_around, image, near, pixel_of, project, xyz_tile

RED = (230, 0, 0)


def _catalog(sample_dir: Path, root: Path, name: str, layers: tuple[str, ...]) -> Path:
    doc = yaml.safe_load((sample_dir / "layers.yml").read_text(encoding="utf-8"))
    doc.pop("indicators", None)  # the sample's indicator model names layers left out here
    doc["layers"] = [
        {**layer, "source": str(sample_dir / layer["source"])}
        for layer in doc["layers"]
        if layer["id"] in layers
    ]
    path = root / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _wait_for_release(base: str, release_id: str) -> None:
    deadline = time.monotonic() + 30
    while httpx.get(f"{base}/healthz", timeout=5).json()["release"] != release_id:
        assert time.monotonic() < deadline, "the server did not load the new release"
        time.sleep(0.1)


@pytest.mark.slow
def test_next_map_after_a_switch_shows_the_new_release(sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    reporter = Reporter(io.StringIO(), rich=False)
    with_red = build(
        BuildOptions(
            catalog=_catalog(sample_dir, tmp_path, "a.yml", ("xzq_xian", "stbhhx")), out=out
        ),
        reporter,
    )
    without = build(
        BuildOptions(catalog=_catalog(sample_dir, tmp_path, "b.yml", ("xzq_xian",)), out=out),
        reporter,
    )
    red = gpd.read_file(with_red.path / "features" / "public.gpkg", layer="stbhhx")
    polygon = max(red.geometry.values, key=lambda g: g.area)
    point = polygon.boundary.interpolate(0.37, normalized=True)
    bbox = box_around("EPSG:3857", point.x, point.y, 600)
    px, py = pixel_of(bbox, (256, 256), *project("EPSG:3857", point.x, point.y))
    getmap = {
        "SERVICE": "WMS",
        "REQUEST": "GetMap",
        "VERSION": "1.3.0",
        "LAYERS": "plan",
        "STYLES": "",
        "CRS": "EPSG:3857",
        "BBOX": ",".join(map(repr, bbox)),
        "WIDTH": "256",
        "HEIGHT": "256",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }
    col, row, tx, ty = xyz_tile(point.x, point.y, 13)
    tile = f"/wmts/plan/webmercator/13/{col}/{row}.png"

    point_current(out, with_red.release_id)
    token = new_token()
    append_token_hash(tmp_path / "tokens", token)
    with serve(out, tmp_path / "tokens", tmp_path / "server.log") as (base, _proc):
        before = httpx.get(f"{base}/wms", params=getmap, timeout=120)
        assert near(image(before.content), px, py, RED, radius=3)
        assert near(image(httpx.get(base + tile, timeout=120).content), tx, ty, RED, radius=3)
        old_cache = out / ".data" / "raster" / with_red.release_id  # the default data folder
        assert (old_cache / "public" / "mapproxy.yaml").is_file()

        point_current(out, without.release_id)
        _wait_for_release(base, without.release_id)
        after = httpx.get(f"{base}/wms", params=getmap, timeout=120)
        assert after.status_code == 200
        assert not near(image(after.content), px, py, RED, radius=3)
        assert not near(image(httpx.get(base + tile, timeout=120).content), tx, ty, RED, radius=3)
        assert not old_cache.exists()
        assert (out / ".data" / "raster" / without.release_id / "public").is_dir()
