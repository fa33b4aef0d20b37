"""`serve --server granian`: the same app under granian (its ASGI interface, with the lifespan),
in a subprocess on 127.0.0.1, clients over TCP; and a clean stop, with no process left behind
(granian's workers, our render processes)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.server.helpers import Probe, decode, serve


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (children, theirs, …), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_granian_serves_the_app_and_stops_cleanly(
    tiles_dir: Path, tmp_path: Path, token: str, probe: Probe
) -> None:
    z, x, y = probe.public
    log = tmp_path / "server.log"
    with serve(tiles_dir, tmp_path / "tokens", log, server="granian") as (base, proc):
        with httpx.Client(base_url=base, timeout=60) as client:
            tile = client.get(f"/tiles/public/{z}/{x}/{y}.mvt", headers={"X-Request-ID": "g-1"})
            assert tile.status_code == 200, tile.text
            assert tile.headers["x-request-id"] == "g-1"
            assert decode(tile.content, gzipped=False)  # httpx undid the Content-Encoding
            again = client.get(
                f"/tiles/public/{z}/{x}/{y}.mvt", headers={"If-None-Match": tile.headers["etag"]}
            )
            assert again.status_code == 304
            internal = client.get(f"/tiles/internal/{z}/{x}/{y}.mvt")
            assert internal.status_code == 401
            auth = {"Authorization": f"Bearer {token}"}
            assert client.get(f"/tiles/internal/{z}/{x}/{y}.mvt", headers=auth).status_code == 200

            items = client.get("/ogc/collections/stbhhx/items", params={"limit": 3, "f": "json"})
            assert items.status_code == 200, items.text
            doc = items.json()
            assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3

            viewer = client.get("/")
            assert viewer.status_code == 200 and "text/html" in viewer.headers["content-type"]

            # X-Forwarded-Proto from 127.0.0.1, a trusted proxy by default: as under uvicorn
            tilejson = client.get("/tiles/public.json", headers={"X-Forwarded-Proto": "https"})
            assert tilejson.json()["tiles"][0].startswith("https://127.0.0.1:")

            # a raster tile: drawn in render processes of the worker's own
            raster = client.get(f"/raster/public/{z}/{x}/{y}.png")
            assert raster.status_code == 200 and raster.content[:8] == b"\x89PNG\r\n\x1a\n"
        below = descendants(proc.pid)
        assert len(below) >= 3  # granian's worker and, below it, its render processes
        time.sleep(1.5)  # the access lines are written once a second
        text = log.read_text(encoding="utf-8", errors="replace")
        assert '"path": "/tiles/public/' in text and '"request_id": "g-1"' in text
        assert "serving release" in text  # the lifespan ran: it loads the release
    assert proc.returncode == 0, log.read_text()
    deadline = time.monotonic() + 10
    while left := [pid for pid in below if alive(pid)]:
        assert time.monotonic() < deadline, f"left running: {left}"
        time.sleep(0.2)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text and token not in text


def test_granian_workers_share_the_metrics(tiles_dir: Path, tmp_path: Path, probe: Probe) -> None:
    """With 2 granian workers, both answer and a scrape counts every worker's requests (the
    shared metrics folder `serve` makes in the data folder, removed when it stops)."""
    from concurrent.futures import ThreadPoolExecutor

    z, x, y = probe.public
    tile = f"/tiles/public/{z}/{x}/{y}.mvt"
    route = '{method="GET",route="/tiles/{audience}/{z}/{x}/{name}",status="200"}'
    data = tiles_dir / ".data"
    n, workers = 60, 2
    log = tmp_path / "serve.log"
    with serve(tiles_dir, tmp_path / "tokens", log, workers=workers, server="granian") as (
        base,
        proc,
    ):
        assert len(list(data.glob("metrics-*"))) == 1

        def fetch(_: int) -> str:
            r = httpx.get(base + tile, timeout=10)  # a connection each
            assert r.status_code == 200
            return r.headers["x-request-id"][:12]  # the worker's prefix

        with ThreadPoolExecutor(8) as pool:
            prefixes = set(pool.map(fetch, range(n)))
        assert len(prefixes) == workers
        time.sleep(1.5)  # each worker adds its counts to the shared files once a second
        scrape = httpx.get(base + "/metrics", timeout=10).text
        line = next(
            s for s in scrape.splitlines() if s.startswith("onemap_http_requests_total" + route)
        )
        assert float(line.split()[-1]) == n
        below = descendants(proc.pid)
    assert proc.returncode == 0, log.read_text()
    assert not list(data.glob("metrics-*"))
    deadline = time.monotonic() + 10
    while left := [pid for pid in below if alive(pid)]:
        assert time.monotonic() < deadline, f"left running: {left}"
        time.sleep(0.2)


def test_sighup_reaches_the_app_not_granian(tiles_dir: Path, tmp_path: Path) -> None:
    """A SIGHUP to `serve` makes each worker's app load DIR/current again, as under uvicorn;
    granian's own answer (respawning the workers) is not used: the same workers serve on."""
    import signal

    log = tmp_path / "server.log"
    with serve(tiles_dir, tmp_path / "tokens", log, workers=2, server="granian") as (base, proc):

        def loads() -> int:
            return log.read_text(encoding="utf-8", errors="replace").count("serving release")

        deadline = time.monotonic() + 30
        while loads() < 2:  # one per worker, at startup
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        workers = granian_workers(proc.pid)
        assert len(workers) == 2
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while loads() < 4:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert granian_workers(proc.pid) == workers
    assert "respawning" not in log.read_text()


def granian_workers(pid: int) -> set[int]:
    """The worker processes granian spawned below `serve` (not multiprocessing's helpers)."""
    found = set()
    for child in descendants(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes()
            stat = Path(f"/proc/{child}/stat").read_text()
        except OSError:
            continue
        if b"spawn_main" in argv and int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.add(child)
    return found
