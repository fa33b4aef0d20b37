"""A served worker starts its render processes (publish.raster.processes) in the background at
startup — `serve`'s default — so that its first raster does not wait for them, and stops them
when it stops; `--no-raster-warmup` leaves them to the first raster."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.raster.test_memory import metric, tile_of
from tests.raster.test_processes import _alive, maps_mesa
from tests.server.helpers import serve


def children(pid: int) -> set[int]:
    """Every process below `pid` (under granian the render processes are the worker's children,
    and the worker is serve's)."""
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # ended meanwhile
        return found
    for task in tasks:
        try:
            direct = {int(c) for c in (task / "children").read_text().split()}
        except FileNotFoundError:  # a thread or process that ended meanwhile
            continue
        for child in direct - found:
            found |= {child} | children(child)
    return found


def test_the_render_processes_are_ready_before_the_first_raster(
    served_tiles: tuple[Path, Path], tmp_path: Path
) -> None:
    tiles, tokens = served_tiles
    log = tmp_path / "server.log"
    with serve(tiles, tokens, log) as (base, proc):
        c = httpx.Client(base_url=base, timeout=60)
        assert c.get("/healthz").status_code == 200  # answered while they start
        deadline = time.monotonic() + 60
        while metric(c.get("/metrics").text, "onemap_renderer_processes") < 2:
            assert time.monotonic() < deadline, "no render processes before any raster"
            time.sleep(0.1)
        while len(renderers := {p for p in children(proc.pid) if maps_mesa(p)}) < 2:
            assert time.monotonic() < deadline, "render processes without MapLibre"
            time.sleep(0.1)

        west, south, east, north = c.get("/tiles/public.json").json()["bounds"]
        x, y = tile_of((west + east) / 2, (south + north) / 2, 10)
        started = time.monotonic()
        r = c.get(f"/raster/public/10/{x}/{y}.png")
        first_s = time.monotonic() - started
        assert r.status_code == 200, r.text
        assert Image.open(io.BytesIO(r.content)).size == (256, 256)
        # drawn by the processes started with the server: none was started for it
        assert {p for p in children(proc.pid) if maps_mesa(p)} == renderers
        assert metric(c.get("/metrics").text, "onemap_renderer_processes") == 2
        c.close()
        print(f"first raster after warm-up: {first_s:.2f} s")
        proc.terminate()
        proc.wait(30)
    assert not any(_alive(pid) for pid in renderers)  # stopped with the server, not after it


def test_without_warmup_they_start_with_the_first_raster(
    served_tiles: tuple[Path, Path], tmp_path: Path
) -> None:
    tiles, tokens = served_tiles
    env = {"PUBLISH_RASTER_WARMUP": "off"}
    log = tmp_path / "server.log"
    with (
        serve(tiles, tokens, log, settings_env=env) as (base, proc),
        httpx.Client(base_url=base, timeout=60) as c,
    ):
        time.sleep(2)  # what a warm-up would have started by now
        assert metric(c.get("/metrics").text, "onemap_renderer_processes") == 0
        assert not {p for p in children(proc.pid) if maps_mesa(p)}
        west, south, east, north = c.get("/tiles/public.json").json()["bounds"]
        x, y = tile_of((west + east) / 2, (south + north) / 2, 10)
        started = time.monotonic()
        assert c.get(f"/raster/public/10/{x}/{y}.png").status_code == 200
        print(f"first raster without warm-up: {time.monotonic() - started:.2f} s")
        assert metric(c.get("/metrics").text, "onemap_renderer_processes") >= 1
