"""The tile path's own cost, in one process: no server, no socket, no load generator.

    .venv/bin/python bench/tile_path.py --tiles TILES [--requests 200000] [--base DIR] [--rounds 3]

Calls the app as the ASGI servers run it (`publish.app:app_from_env`, after its lifespan) with
GET requests for 5,000 tiles of the public archive drawn at random (each asked once before the
count, so every counted answer comes from the tile cache), and bench/bare_tiles.py's bare
callable the same way; prints the CPU µs a request of each. With `--base DIR` (a checkout of the
code before a change) its app is measured too, in turns with this one's, each in a process of
its own. The access log is written to /dev/null, as the server writes it: in batches.

Under valgrind (`valgrind --tool=callgrind python bench/tile_path.py --child ours ...` at two
request counts) the difference of the counts' instructions is a figure machine load cannot move.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def tile_paths(archive: Path, count: int, seed: int) -> list[str]:
    sys.path.insert(0, str(REPO))
    from bench.serve import tile_list

    every = tile_list(archive)
    sample = random.Random(seed).sample(every, min(count, len(every)))
    return [f"/tiles/public/{z}/{x}/{y}.mvt" for z, x, y, _, _ in sample]


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _started(app: Any) -> None:
    """Run the app's lifespan up to its startup (left running, as under a server)."""
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    done = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            done.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    asyncio.get_running_loop().create_task(app(scope, events.get, send))
    await done.wait()


async def _measure(which: str, paths: list[str], requests: int) -> dict[str, Any]:
    import logging.config

    from publish.server.logs import ACCESS_LOGGER, log_config

    logging.config.dictConfig(log_config("info"))
    for handler in logging.getLogger(ACCESS_LOGGER).handlers:
        handler.setStream(open(os.devnull, "w"))  # type: ignore[attr-defined]  # noqa: SIM115 (the process keeps it)
    if which == "bare":
        from bench.bare_tiles import raw as app
    else:
        from publish.app import app_from_env

        app = app_from_env()
        await _started(app)
    statuses: dict[int, int] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    scopes = [_scope(p) for p in paths]
    for scope in scopes:  # every tile once: the counted answers come from the cache
        await app(dict(scope), receive, send)
    statuses.clear()
    gc.collect()
    cpu = time.process_time()
    for i in range(requests):
        await app(dict(scopes[i % len(scopes)]), receive, send)
    seconds = time.process_time() - cpu
    return {"cpu_us": seconds / requests * 1e6, "statuses": statuses}


def child(args: argparse.Namespace) -> None:
    import uvloop

    paths = Path(args.paths).read_text().split()
    result = uvloop.run(_measure(args.child, paths, args.requests))
    print(json.dumps(result))


def run(which: str, source: Path, paths_file: Path, tiles: Path, requests: int) -> float:
    archive = tiles / "current" / "tiles" / "public.pmtiles"
    env = {
        **os.environ,
        "PUBLISH_TILES_DIR": str(tiles),
        "PUBLISH_RASTER_WARMUP": "0",
        "BENCH_ARCHIVE": str(archive),
        "PYTHONPATH": str(source),
    }
    argv = [PYTHON, str(REPO / "bench" / "tile_path.py"), "--child", which]
    argv += ["--paths", str(paths_file), "--requests", str(requests)]
    done = subprocess.run(argv, env=env, cwd=source, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if set(result["statuses"]) != {"200"}:  # (JSON keys are text)
        raise SystemExit(f"{which} at {source}: answers {result['statuses']}, not all 200")
    return float(result["cpu_us"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", type=Path, help="a build's output folder")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, help="also a checkout from before a change")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.tiles is None:
        parser.error("--tiles is required")
    tiles = args.tiles.resolve()
    paths_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"tile-path-{os.getpid()}.txt"
    archive = tiles / "current" / "tiles" / "public.pmtiles"
    paths_file.write_text("\n".join(tile_paths(archive, 5000, args.seed)) + "\n")
    rows = {"ours": REPO, **({"base": args.base.resolve()} if args.base else {}), "bare": REPO}
    found: dict[str, list[float]] = {name: [] for name in rows}
    try:
        for round_no in range(1, args.rounds + 1):
            for name, source in rows.items():
                which = "bare" if name == "bare" else "ours"
                found[name].append(run(which, source, paths_file, tiles, args.requests))
                print(f"round {round_no}: {name} {found[name][-1]:.2f} µs", flush=True)
    finally:
        paths_file.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    print(f"\n`{' '.join(sys.argv)}` — {args.requests:,} cached tiles a run, load now {load:.2f}\n")
    print("| row | CPU µs a request (median) | all rounds |")
    print("|---|---|---|")
    for name, values in found.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {name} | {statistics.median(values):.2f} | {rounds} |")


if __name__ == "__main__":
    main()
