"""Raster tiles and WMS: render time per tile (cold and cached) and WMS GetMap throughput.

    .venv/bin/python bench/raster.py --tiles tiles [--tiles-count 120] [--maps 160]
        [--concurrency 4] [--workers 1]

Serves the current release of TILES with `python -m publish serve` from a tiles folder of its
own (its `releases/` links to TILES's, so the raster caches start empty and TILES is untouched),
then measures over random places inside the city (seed 7):

- /raster/public/{z}/{x}/{y}.png (rendered on every request, nothing cached): one at a time;
- WMTS tiles of the whole map, Web Mercator and CGCS2000 grids: the first request (rendered or
  reprojected, then stored) and the second (read from MapProxy's cache), one at a time;
- WMS 1.3.0 GetMap 256 × 256 (EPSG:3857 and EPSG:4490, about z13): `--concurrency` clients,
  a cold pass over fresh places and a warm pass over the same places again.

Prints Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from support.ports import free_port  # noqa: E402


def _peak_rss_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of process `pid` and its children, in MB."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(status.parent.name) == pid or fields.get("PPid", "").strip() == str(pid):
            total += int(fields.get("VmHWM", "0 kB").split()[0])
    return total / 1024


@contextmanager
def _server(tiles: Path, workers: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISH_")}
    log = open(tiles.parent / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "publish", "serve", "--tiles", str(tiles)),
            *("--port", str(port), "--workers", str(workers), "--log-level", "warning"),
        ],
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"server did not start: {(tiles.parent / 'server.log').read_text()}"
                )
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _city(release: Path) -> tuple[float, float, float, float]:
    manifest = json.loads((release / "manifest.json").read_bytes())
    boxes = [
        info["bounds"]
        for lid, info in manifest["layers"].items()
        if lid in manifest["audiences"]["public"]["layers"] and info.get("bounds")
    ]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _xyz(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _geo(lon: float, lat: float, z: int) -> tuple[int, int]:
    res = 1.40625 / (1 << z)
    return int((lon + 180) / (256 * res)), int((90 - lat) / (256 * res))


def _timed(client: httpx.Client, url: str, params: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    r = client.get(url, params=params, timeout=300)
    elapsed = time.perf_counter() - start
    if r.status_code != 200 or not r.headers.get("content-type", "").startswith("image/png"):
        raise SystemExit(f"{url} {params}: {r.status_code} {r.text[:200]}")
    return elapsed


def _stats(label: str, times: list[float], extra: str = "") -> str:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    return (
        f"| {label} | {len(ms)} | {statistics.median(ms):.0f} | {p90:.0f} | "
        f"{statistics.fmean(ms):.0f} | {extra} |"
    )


def _places(
    bbox: tuple[float, float, float, float], count: int, seed: int
) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    west, south, east, north = bbox
    return [(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(count)]


def _getmap(crs: str, lon: float, lat: float) -> dict[str, str]:
    half_m = 256 * 19.1 / 2  # ~z13 at this latitude
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(lat)))
    if crs == "EPSG:4490":
        bbox = (lat - dlat, lon - dlon, lat + dlat, lon + dlon)  # WMS 1.3.0: latitude first
    else:
        r = 6378137.0
        x, y = math.radians(lon) * r, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * r
        k = 1 / math.cos(math.radians(lat))
        bbox = (x - half_m * k, y - half_m * k, x + half_m * k, y + half_m * k)
    return {
        "SERVICE": "WMS",
        "REQUEST": "GetMap",
        "VERSION": "1.3.0",
        "LAYERS": "plan",
        "STYLES": "",
        "CRS": crs,
        "BBOX": ",".join(f"{v:.7f}" for v in bbox),
        "WIDTH": "256",
        "HEIGHT": "256",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }


def _throughput(
    base: str, requests: list[dict[str, str]], concurrency: int
) -> tuple[float, list[float]]:
    def one(params: dict[str, str], client: httpx.Client) -> float:
        return _timed(client, f"{base}/wms", params)

    clients = [httpx.Client() for _ in range(concurrency)]
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        times = list(
            pool.map(lambda ip: one(ip[1], clients[ip[0] % concurrency]), enumerate(requests))
        )
    wall = time.perf_counter() - start
    for c in clients:
        c.close()
    return len(requests) / wall, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiles", default="tiles", help="a tiles folder with a current release")
    parser.add_argument("--tiles-count", type=int, default=120, help="tiles per measurement")
    parser.add_argument("--maps", type=int, default=160, help="GetMap requests per pass")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    args = parser.parse_args()

    release = (Path(args.tiles) / "current").resolve()
    manifest = json.loads((release / "manifest.json").read_bytes())
    features = sum(v.get("features", 0) for v in manifest["layers"].values())
    bbox = _city(release)
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-raster-") as tmp:
        tiles = Path(tmp) / "tiles"
        tiles.mkdir()
        (tiles / "releases").symlink_to(release.parent.resolve())
        os.symlink(f"releases/{release.name}", tiles / "current")
        with _server(tiles, args.workers) as (base, pid), httpx.Client() as client:
            warm = _xyz(*_places(bbox, 1, 1)[0], 12)
            _timed(client, f"{base}/raster/public/12/{warm[0]}/{warm[1]}.png")  # start the pool

            zooms = (10, 12, 14)
            places = _places(bbox, args.tiles_count, 7)
            times = []
            for i, (lon, lat) in enumerate(places):
                z = zooms[i % len(zooms)]
                x, y = _xyz(lon, lat, z)
                times.append(_timed(client, f"{base}/raster/public/{z}/{x}/{y}.png"))
            rows.append(_stats("/raster/public (rendered every time), z10/12/14", times))

            for grid, address in (("webmercator", _xyz), ("cgcs2000", _geo)):
                urls = []
                for i, (lon, lat) in enumerate(_places(bbox, args.tiles_count, 11)):
                    z = zooms[i % len(zooms)]
                    col, row = address(lon, lat, z)
                    urls.append(f"{base}/wmts/plan/{grid}/{z:02d}/{col}/{row}.png")
                urls = list(dict.fromkeys(urls))
                cold = [_timed(client, url) for url in urls]
                cached = [_timed(client, url) for url in urls]
                rows.append(_stats(f"WMTS {grid} first request (cold), z10/12/14", cold))
                rows.append(_stats(f"WMTS {grid} cached", cached))

            for seed, crs in ((13, "EPSG:3857"), (17, "EPSG:4490")):
                places = _places(bbox, args.maps, seed)  # fresh places: cold is cold
                requests = [_getmap(crs, lon, lat) for lon, lat in places]
                for label in ("cold", "warm"):
                    rate, times = _throughput(base, requests, args.concurrency)
                    rows.append(
                        _stats(
                            f"WMS GetMap 256² {crs} ~z13, {label}, {args.concurrency} clients",
                            times,
                            f"{rate:.1f} maps/s",
                        )
                    )
            peak = _peak_rss_mb(pid)

    print(f"\nrelease {release.name} ({features:,} features), {os.cpu_count()} cores")
    print(f"server peak RSS {peak:.0f} MB ({args.workers} worker(s))\n")
    print("| what | requests | median ms | p90 ms | mean ms | throughput |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
