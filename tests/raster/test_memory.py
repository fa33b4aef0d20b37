"""A server worker's memory through a mixed soak with rasters (issue 15: ≤ 300 MB): the maps are
drawn in render processes of their own (publish.raster.processes), whose memory /metrics reports
apart from the worker's, and large WMS images are handed back to the system when freed
(publish.server.memory). Measured: 159 MB at start, 159 after 50 raster tiles, 223 after six
large maps (475 MB with the renderers in the worker; 368 without the mmap threshold)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import httpx
from PIL import Image

from publish.tiles.archive import tile_bounds
from tests.server.helpers import serve

WORKER_LIMIT = 300 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text("ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def metric(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[1])


def test_a_worker_keeps_its_memory_through_a_soak_with_rasters(
    served_tiles: tuple[Path, Path], tmp_path: Path
) -> None:
    tiles, tokens = served_tiles
    with serve(tiles, tokens, tmp_path / "server.log") as (base, proc):
        with httpx.Client(base_url=base, timeout=120) as c:
            start = rss_bytes(proc.pid)
            tilejson = c.get("/tiles/public.json").json()
            west, south, east, north = tilejson["bounds"]
            lon, lat = (west + east) / 2, (south + north) / 2
            low = max(9, int(tilejson["minzoom"]))
            drawn = 0
            for z in range(low, low + 6):  # 9 raster tiles a zoom around the centre
                cx, cy = tile_of(lon, lat, z)
                for dx in (-1, 0, 1):
                    for dy in (-1, 0, 1):
                        w, s, e, n = tile_bounds(z, cx + dx, cy + dy)
                        if e < west or w > east or n < south or s > north:
                            continue  # outside the map: a 404
                        r = c.get(f"/raster/public/{z}/{cx + dx}/{cy + dy}.png")
                        assert r.status_code == 200, (r.url, tilejson.get("bounds"), r.text)
                        img = Image.open(io.BytesIO(r.content)).convert("RGBA")
                        drawn += img.getextrema()[3][1] > 0  # something opaque on it
            assert drawn >= 30
            for size in (1024, 2048):  # large WMS maps (MapProxy puts the tiles together)
                for k in range(3):
                    d = 0.02 * (k + 1)
                    r = c.get(
                        "/wms",
                        params={
                            "SERVICE": "WMS",
                            "REQUEST": "GetMap",
                            "VERSION": "1.3.0",
                            "LAYERS": "plan",
                            "STYLES": "",
                            "CRS": "EPSG:4326",  # lat/lon order in WMS 1.3.0
                            "BBOX": f"{lat - d},{lon - d},{lat + d},{lon + d}",
                            "WIDTH": str(size),
                            "HEIGHT": str(size),
                            "FORMAT": "image/png",
                        },
                    )
                    assert r.status_code == 200, r.text
                    assert r.headers["content-type"] == "image/png"
                    assert Image.open(io.BytesIO(r.content)).size == (size, size)
            for z in range(8, 13):  # vector tiles and features beside them
                cx, cy = tile_of(lon, lat, z)
                assert c.get(f"/tiles/public/{z}/{cx}/{cy}.mvt").status_code in (200, 204)
            for k in range(20):
                d = 0.005 * (k + 1)
                r = c.get(
                    "/ogc/collections/stbhhx/items",
                    params={"bbox": f"{lon - d},{lat - d},{lon + d},{lat + d}", "limit": 50},
                )
                assert r.status_code == 200
            worker = rss_bytes(proc.pid)
            scraped = c.get("/metrics").text
        renderers = metric(scraped, "onemap_renderer_resident_bytes")
        assert worker <= WORKER_LIMIT, (
            f"worker {worker / 2**20:.0f} MB after the soak ({start / 2**20:.0f} MB at start, "
            f"render processes {renderers / 2**20:.0f} MB)"
        )
        assert metric(scraped, "onemap_renderer_processes") >= 1
        assert renderers > 50 * 1024 * 1024  # MapLibre's memory is in the render processes
