"""Tile latency while the server is flooded with its heaviest requests (issue 16: overload).

    .venv/bin/python bench/overload.py --tiles T [--checks 100] [--maps 20] [--seconds 10]

`--tiles` is a built tiles folder (its `current` release). The server runs with its defaults
(`python -m publish serve`, one worker, work queues of 2 slots + 8 waiting). Two phases, each
with the same tile client (4 threads, random public tiles, one request at a time each):
  quiet     tiles only, for `--seconds`
  flooded   tiles while `--checks` largest site checks (~99 km², 9,990 vertices, surroundings
            5 km) and `--maps` 2048×2048 WMS GetMaps arrive at once
Both phases run twice, side by side: the server as shipped, and with its work queues opened wide
(PUBLISH_WORK_SLOTS=1000: what the bound buys). Prints, per phase, tile p50/p99/max latency and
count, the heavy requests' statuses (200 or 503 with Retry-After), the server's peak RSS and CPU
seconds. The aim (issue 16): tile p99 ≤ 100 ms
while flooded, the excess answered 503, no crash. Record the load average before each run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from serve import cpu_seconds, group_pids, ours  # noqa: E402  (bench/serve.py)

from support.heavy import large_map, largest_site  # noqa: E402

EXECUTE = "/ogc/processes/site-check/execution"
TILE_THREADS = 4


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tile_client(
    base: str, paths: list[str], stop: threading.Event, out: list[float], failed: Counter[str]
) -> None:
    """Tiles one at a time until `stop`; latencies of the 200s, every other answer counted."""
    rng = random.Random()
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status = str(client.get(rng.choice(paths)).status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if status == "200":
                out.append(time.perf_counter() - started)
            else:
                failed[status] += 1


def phase(
    base: str, paths: list[str], seconds: float, heavy: list[tuple[str, bytes | None]]
) -> dict:
    latencies: list[float] = []
    failed: Counter[str] = Counter()
    stop = threading.Event()
    tilers = [
        threading.Thread(target=tile_client, args=(base, paths, stop, latencies, failed))
        for _ in range(TILE_THREADS)
    ]
    for t in tilers:
        t.start()
    time.sleep(1)  # tiles flowing before the flood
    answers: list[tuple[str, int, str | None]] = []

    def send(path: str, body: bytes | None) -> None:
        with httpx.Client(base_url=base, timeout=600) as client:
            if body is None:
                r = client.get(path)
            else:
                r = client.post(path, content=body, headers={"Content-Type": "application/json"})
            kind = "site check" if body is not None else "GetMap"
            answers.append((kind, r.status_code, r.headers.get("retry-after")))

    started = time.monotonic()
    senders = [threading.Thread(target=send, args=item) for item in heavy]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    left = seconds - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)
    stop.set()
    for t in tilers:
        t.join()
    ordered = sorted(latencies) or [float("nan")]
    return {
        "tiles": len(latencies),
        "failed": failed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
        "heavy": Counter((kind, status, retry) for kind, status, retry in answers),
        "seconds": time.monotonic() - started,
    }


def main() -> int:
    from publish.tiles.archive import Archive

    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", required=True)
    parser.add_argument("--checks", type=int, default=100)
    parser.add_argument("--maps", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    tiles_dir = Path(args.tiles)
    with Archive((tiles_dir / "current" / "tiles" / "public.pmtiles").resolve()) as archive:
        paths = [f"/tiles/public/{z}/{x}/{y}.mvt" for z, x, y, _ in archive.iter_tiles()]
        west, south, east, north = archive.bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    load = os.getloadavg()[0]
    print(f"load average before the run: {load:.2f}")
    heavy: list[tuple[str, bytes | None]] = [(EXECUTE, largest_site())] * args.checks
    heavy += [(large_map(lon, lat), None)] * args.maps
    random.Random(1).shuffle(heavy)
    rows: list[str] = []
    alive_all = True
    # the server as shipped, then with its queues opened wide (what the bound buys)
    for label, env in (
        ("bounded (2 + 8)", {}),
        ("unbounded", {"PUBLISH_WORK_SLOTS": "1000", "PUBLISH_WORK_QUEUE": "0"}),
    ):
        with tempfile.TemporaryDirectory() as work:
            port, server = ours(tiles_dir, 1, Path(work) / "server.log", settings_env=env)
            base = f"http://127.0.0.1:{port}"
            with server as proc:
                pids = group_pids(os.getpgid(proc.pid))
                cpu0 = cpu_seconds(pids)
                quiet = phase(base, paths, args.seconds, [])
                cpu1 = cpu_seconds(pids)
                flooded = phase(base, paths, args.seconds, heavy)
                cpu2 = cpu_seconds(pids)
                try:
                    alive = httpx.get(f"{base}/healthz", timeout=30).status_code == 200
                except httpx.HTTPError:
                    alive = False
                alive = alive and proc.poll() is None
                rss = peak_rss_mb(proc.pid) if alive else float("nan")
        tiles_failed = sum(quiet["failed"].values()) + sum(flooded["failed"].values())
        alive_all = alive_all and alive and not tiles_failed
        for name, result, cpu in (("quiet", quiet, cpu1 - cpu0), ("flooded", flooded, cpu2 - cpu1)):
            heavy_text = ", ".join(
                f"{kind} {status}{' Retry-After ' + retry if retry else ''}: {n}"
                for (kind, status, retry), n in sorted(result["heavy"].items())
            )
            rows.append(
                f"| {label} | {name} | {result['tiles']} "
                f"| {', '.join(f'{k}: {v}' for k, v in result['failed'].items()) or 0} "
                f"| {result['seconds']:.0f} "
                f"| {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | {result['max_ms']:.1f} "
                f"| {heavy_text or '-'} | {cpu:.1f} | {rss:.0f} | {alive} |"
            )
    print()
    print(
        "| server | phase | tiles 200 | tiles not 200 | s | tile p50 ms | tile p99 ms | tile max ms | heavy requests "
        "| server CPU s | peak RSS MB | alive |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0 if alive_all else 1  # a tile not answered 200, or a server down, fails the run


if __name__ == "__main__":
    raise SystemExit(main())
