"""A real server: `serve` (its default ASGI server, granian; `ONEMAP_TEST_SERVER=uvicorn` runs
these under uvicorn[standard]) in a subprocess on 127.0.0.1, clients over TCP."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.server.helpers import INTERVAL, Built, Probe, decode, point_current, serve


def test_release_switch_under_load(
    tiles_dir: Path, tmp_path: Path, token: str, built_releases: Built, probe: Probe
) -> None:
    z, x, y = probe.internal_only
    urls = [
        (f"/tiles/public/{z}/{x}/{y}.mvt", {}),
        (f"/tiles/internal/{z}/{x}/{y}.mvt", {"Authorization": f"Bearer {token}"}),
        ("/tiles/public.json", {}),
        ("/styles/public.json", {}),
    ]
    failures: list[str] = []
    seen: dict[str, int] = {}
    stop = threading.Event()
    log = tmp_path / "server.log"

    def client_loop(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            while not stop.is_set():
                for url, headers in urls:
                    try:
                        r = client.get(url, headers=headers)
                    except httpx.HTTPError as exc:
                        failures.append(f"{url}: {exc!r}")
                        continue
                    if r.status_code != 200:
                        failures.append(f"{url}: {r.status_code} {r.text[:200]}")
                        continue
                    if url.endswith(".mvt"):
                        layers = decode(r.content, gzipped=False)
                        if ("spxm" in layers) != ("internal" in url):
                            failures.append(f"{url}: layers {sorted(layers)}")
                    rid = r.headers["x-onemap-release"]
                    seen[rid] = seen.get(rid, 0) + 1

    with serve(tiles_dir, tmp_path / "tokens", log, workers=2) as (base, _proc):
        threads = [threading.Thread(target=client_loop, args=(base,)) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            point_current(tiles_dir, built_releases.second)
            switched = time.monotonic()
            with httpx.Client(base_url=base, timeout=5) as health:
                # both workers must have switched: 20 answers in a row name the new release
                streak = 0
                while streak < 20:
                    body = health.get("/healthz").json()
                    streak = streak + 1 if body["release"] == built_releases.second else 0
                    assert time.monotonic() - switched < INTERVAL + 5, body
                    time.sleep(0.01)
                elapsed = time.monotonic() - switched
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    assert failures == []
    assert seen.get(built_releases.first, 0) > 10 and seen.get(built_releases.second, 0) > 10
    assert elapsed <= INTERVAL + 2.5  # the interval, plus a loaded 2-core machine's slack
    text = log.read_text()
    assert "serving release " + built_releases.second in text
    assert token not in text
    assert "Traceback" not in text


def test_download_in_flight_finishes_on_its_release(
    tiles_dir: Path, tmp_path: Path, token: str, built_releases: Built
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    old = built_releases.archive_path(built_releases.first, "internal").read_bytes()
    with (
        serve(tiles_dir, tmp_path / "tokens", tmp_path / "server.log") as (base, _proc),
        httpx.Client(base_url=base, timeout=10) as client,
        client.stream("GET", "/tiles/internal.pmtiles", headers=auth) as response,
    ):
        assert response.status_code == 200
        chunks = response.iter_raw(16384)
        received = [next(chunks)]
        point_current(tiles_dir, built_releases.second)
        deadline = time.monotonic() + INTERVAL + 5
        while httpx.get(f"{base}/healthz").json()["release"] != built_releases.second:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        received.extend(chunks)
        assert response.headers["x-onemap-release"] == built_releases.first
    assert hashlib.sha256(b"".join(received)).digest() == hashlib.sha256(old).digest()


def test_sighup_retries_a_refused_release(
    tiles_dir: Path, tmp_path: Path, built_releases: Built
) -> None:
    # start on a damaged copy: nothing to serve, /healthz says why
    copy = tiles_dir / "fixable" / built_releases.first
    shutil.copytree(built_releases.release(built_releases.first), copy)
    style = copy / "styles" / "public.json"
    style.rename(copy / "style.bak")
    tmp = tiles_dir / ".current.tmp"
    os.symlink(f"fixable/{built_releases.first}", tmp)
    os.replace(tmp, tiles_dir / "current")
    log = tmp_path / "server.log"
    with serve(tiles_dir, tmp_path / "tokens", log, ready=False) as (base, proc):
        r = httpx.get(f"{base}/healthz")
        assert r.status_code == 503
        assert "was refused" in r.json()["last_error"]
        assert "styles/public.json: missing" in log.read_text(encoding="utf-8", errors="replace")
        assert httpx.get(f"{base}/tiles/public/0/0/0.mvt").status_code == 503
        (copy / "style.bak").rename(style)
        time.sleep(INTERVAL * 3)  # the link did not change: no new attempt by itself
        assert httpx.get(f"{base}/healthz").status_code == 503
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while (r := httpx.get(f"{base}/healthz")).status_code != 200:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert r.json()["release"] == built_releases.first and r.json()["last_error"] is None
        assert httpx.get(f"{base}/tiles/public/0/0/0.mvt").status_code == 200
        assert proc.poll() is None
    assert "release refused" in log.read_text()


def test_metrics_add_up_every_worker(tiles_dir: Path, tmp_path: Path, probe: Probe) -> None:
    """With 2 workers a scrape, whichever worker answers it, counts every worker's requests
    (prometheus_client's multiprocess mode, in a folder `serve` makes in its data folder and
    removes)."""
    from concurrent.futures import ThreadPoolExecutor

    z, x, y = probe.public
    tile = f"/tiles/public/{z}/{x}/{y}.mvt"
    route = '{method="GET",route="/tiles/{audience}/{z}/{x}/{name}",status="200"}'
    data = tiles_dir / ".data"  # the default data folder
    folders = set(data.glob("metrics-*"))
    n = 80

    def value(text: str, name: str) -> float:
        found = [line for line in text.splitlines() if line.startswith(name + " ")]
        assert len(found) == 1, (name, text[:2000])
        return float(found[0].split()[-1])

    with serve(tiles_dir, tmp_path / "tokens", tmp_path / "serve.log", workers=2) as (base, _):
        assert len(set(data.glob("metrics-*")) - folders) == 1

        def fetch(_: int) -> str:
            r = httpx.get(base + tile, timeout=10)  # a connection each: both workers answer
            assert r.status_code == 200
            return r.headers["x-request-id"][:12]  # the worker's prefix

        with ThreadPoolExecutor(8) as pool:
            workers = set(pool.map(fetch, range(n)))
        assert len(workers) == 2  # both workers answered some
        time.sleep(1.5)  # the tile cache's counts reach the shared files once a second
        for _ in range(8):  # new connections: scrapes answered by either worker
            r = httpx.get(base + "/metrics", timeout=10)
            assert value(r.text, "onemap_http_requests_total" + route) == n
            hits = value(r.text, "onemap_tile_cache_hits_total")
            misses = value(r.text, "onemap_tile_cache_misses_total")
            assert hits + misses == n and misses <= 2  # one miss per worker at most
    assert len(set(data.glob("metrics-*")) - folders) == 0
