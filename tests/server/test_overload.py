"""Overload control (issue 16): heavy requests (site checks, GetMaps) beyond their work queue
get 503 + Retry-After at once, tiles keep being answered, the server neither crashes nor grows
without bound.

Tile latency under this load is a speed figure: bench/overload.py measures its p99 on a quiet
machine (BENCHMARKS.md); here only that every tile is answered."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest

from publish.server.overload import OverloadedError, WorkQueue
from publish.tiles.archive import Archive
from support.heavy import large_map, largest_site
from tests.server.helpers import Built, serve

EXECUTE = "/ogc/processes/site-check/execution"


def test_work_queue_refuses_beyond_slots_and_waiting() -> None:
    queue = WorkQueue("test", slots=1, waiting=1)
    outcomes: list[str] = []

    async def job(release: anyio.Event) -> None:
        try:
            async with queue.slot():
                outcomes.append("in")
                await release.wait()
        except OverloadedError as exc:
            assert exc.status == 503 and exc.headers["Retry-After"].isdigit()
            outcomes.append("refused")

    async def main() -> None:
        release = anyio.Event()
        async with anyio.create_task_group() as tasks:
            for _ in range(4):
                tasks.start_soon(job, release)
            await anyio.sleep(0.05)
            assert sorted(outcomes) == ["in", "refused", "refused"]  # one at work, one waiting
            assert queue.admitted == 2
            release.set()
        assert outcomes.count("in") == 2 and queue.admitted == 0
        async with queue.slot():  # free again
            pass

    anyio.run(main)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_a_burst_of_largest_site_checks_and_maps_is_bounded(
    built_releases: Built, tmp_path: Path
) -> None:
    body = largest_site()
    with Archive(built_releases.archive_path(built_releases.first, "public")) as archive:
        tiles = [f"/tiles/public/{z}/{x}/{y}.mvt" for z, x, y, _ in archive.iter_tiles()][:500]
    tokens = tmp_path / "tokens"
    tokens.write_text("")
    env = {"PUBLISH_WORK_SLOTS": "2", "PUBLISH_WORK_QUEUE": "4"}
    with serve(built_releases.out, tokens, tmp_path / "log", settings_env=env) as (base, proc):
        checks: list[httpx.Response] = []
        maps: list[httpx.Response] = []
        tile_status: Counter[int] = Counter()
        tile_seconds: list[float] = []
        done = threading.Event()

        def check() -> None:
            with httpx.Client(base_url=base, timeout=300) as client:
                checks.append(
                    client.post(EXECUTE, content=body, headers={"Content-Type": "application/json"})
                )

        def get_map() -> None:
            with httpx.Client(base_url=base, timeout=300) as client:
                maps.append(client.get(large_map()))

        def fetch_tiles() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                i = 0
                while not done.is_set():
                    started = time.perf_counter()
                    tile_status[client.get(tiles[i % len(tiles)]).status_code] += 1
                    tile_seconds.append(time.perf_counter() - started)
                    i += 1

        tiler = threading.Thread(target=fetch_tiles)
        tiler.start()
        burst = [threading.Thread(target=check) for _ in range(100)]
        burst += [threading.Thread(target=get_map) for _ in range(20)]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join()
        done.set()
        tiler.join()

        statuses = Counter(r.status_code for r in checks)
        assert set(statuses) <= {200, 503}, statuses
        assert statuses[503] >= 100 - 6  # 2 at work + 4 waiting when the burst arrives
        assert 1 <= statuses[200] <= 100 - statuses[503]
        for refused in (r for r in checks if r.status_code == 503):
            assert refused.headers["retry-after"].isdigit()
            assert refused.json()["code"] == "Overloaded"
        map_statuses = Counter(r.status_code for r in maps)
        assert set(map_statuses) <= {200, 503} and map_statuses[503] >= 20 - 6, map_statuses
        drawn = next(r for r in maps if r.status_code == 200)
        assert drawn.headers["content-type"] == "image/png" and len(drawn.content) > 10_000
        assert all(r.headers["retry-after"].isdigit() for r in maps if r.status_code == 503)
        report = next(r for r in checks if r.status_code == 200).json()
        assert report["site"]["area_m2"] == pytest.approx(99e6, rel=0.01)
        # tiles kept being answered, every one of them
        assert set(tile_status) == {200} and sum(tile_status.values()) > 10
        assert max(tile_seconds) < 10
        # the server is alive and its memory stayed bounded
        assert proc.poll() is None
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert _peak_rss_mb(proc.pid) < 2_000
