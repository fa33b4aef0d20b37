"""Rasters drawn in render processes of their own (publish.raster.processes): the pixels, the
processes (not this one), their recycling, a process killed, a style MapLibre refuses."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from publish.raster.processes import RenderProcesses
from publish.raster.renderer import RenderError

REPO = Path(__file__).resolve().parents[2]
RED: dict[str, Any] = {
    "version": 8,
    "sources": {},
    "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#E60000"}}],
}
BLUE: dict[str, Any] = {
    **RED,
    "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#0000FF"}}],
}


def centre(png: bytes) -> tuple[int, ...]:
    img = Image.open(io.BytesIO(png)).convert("RGBA")
    assert img.size == (256, 256)
    return tuple(img.getpixel((128, 128)))


@pytest.fixture
def processes() -> Iterator[RenderProcesses]:
    renderer = RenderProcesses(processes=1, renders_per_process=3)
    yield renderer
    renderer.close()


def test_tiles_are_drawn_in_another_process(processes: RenderProcesses) -> None:
    assert centre(processes.render_tile("red", lambda: RED, 3, 6, 3)) == (230, 0, 0, 255)
    assert centre(processes.render_tile("blue", lambda: BLUE, 3, 6, 3)) == (0, 0, 255, 255)
    pids = set(processes.memory())
    assert len(pids) == 1 and os.getpid() not in pids
    assert all(size > 10_000_000 for size in processes.memory().values())  # MapLibre is in there


def test_async_renders_wait_on_the_event_loop(processes: RenderProcesses) -> None:
    async def many() -> list[bytes]:
        return await asyncio.gather(
            *(processes.arender_tile("red", lambda: RED, 5, i, 3) for i in range(5))
        )

    assert {centre(png) for png in asyncio.run(many())} == {(230, 0, 0, 255)}


def test_a_process_is_replaced_after_its_renders(processes: RenderProcesses) -> None:
    seen: set[int] = set()
    for i in range(7):  # 3 renders a process: three processes in turn
        assert centre(processes.render_tile("red", lambda: RED, 6, i, 20)) == (230, 0, 0, 255)
        seen |= set(processes.memory())
    assert len(seen) >= 2


def test_a_killed_process_costs_a_render_at_most(processes: RenderProcesses) -> None:
    processes.render_tile("red", lambda: RED, 2, 1, 1)
    (pid,) = processes.memory()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    failed = 0
    for _ in range(3):
        try:
            assert centre(processes.render_tile("red", lambda: RED, 2, 1, 1)) == (230, 0, 0, 255)
            break
        except RenderError as exc:
            assert "process" in str(exc)
            failed += 1
    assert failed <= 1
    assert pid not in processes.memory()


def test_a_style_maplibre_refuses_is_a_render_error(processes: RenderProcesses) -> None:
    broken = {
        "version": 8,
        "sources": {"a": {"type": "vector", "url": "nope://x"}},  # a protocol it cannot load
        "layers": [{"id": "x", "type": "fill", "source": "a", "source-layer": "q"}],
    }
    with pytest.raises(RenderError, match="Unsupported protocol"):
        processes.render_tile("broken", lambda: broken, 1, 0, 0)
    assert centre(processes.render_tile("red", lambda: RED, 1, 0, 0)) == (230, 0, 0, 255)


def maps_mesa(pid: int) -> bool:
    """Has the process made its EGL context (Mesa's software rasteriser is mapped)?"""
    try:
        return "swrast_dri.so" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_warm_starts_every_process_with_maplibre_before_any_render() -> None:
    renderer = RenderProcesses(processes=2)
    try:
        renderer.warm()  # returns at once; the processes load MapLibre in the background
        deadline = time.monotonic() + 60
        while not (
            (pids := set(renderer.memory())) and len(pids) == 2 and all(map(maps_mesa, pids))
        ):
            assert time.monotonic() < deadline, f"render processes not ready: {pids}"
            time.sleep(0.1)
        assert centre(renderer.render_tile("red", lambda: RED, 3, 6, 3)) == (230, 0, 0, 255)
        assert set(renderer.memory()) == pids  # drawn by a warmed process: none started for it
    finally:
        renderer.close()
    assert not any(_alive(pid) for pid in pids)  # close waited for them


def test_render_processes_end_with_their_server(tmp_path: Path) -> None:
    """A process that made render processes is SIGKILLed: they exit too, not linger."""
    script = (
        "import sys; from publish.raster.processes import RenderProcesses\n"
        "from tests.raster.test_processes import RED\n"
        "r = RenderProcesses(processes=2)\n"
        "r.render_tile('red', lambda: RED, 1, 0, 0); r.render_tile('red', lambda: RED, 1, 1, 0)\n"
        "print(' '.join(map(str, r.memory())), flush=True)\n"
        "import time; time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None
    children = [int(pid) for pid in proc.stdout.readline().split()]
    assert children and all(Path(f"/proc/{pid}").exists() for pid in children)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children):
        assert time.monotonic() < deadline, "render processes outlived their server"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"
