"""Serving throughput and latency, side by side in one run, on one release (issues 4 and 17).

    .venv/bin/python bench/serve.py --tiles /work/bench-data/tiles1m [--duration 15]
        [--tiles-sample 5000] [--boxes 2000] [--queries 2000] [--rounds 1]
        [--only tiles|features|tipg|cql|inflight] [--baseline CHECKOUT]

`--tiles` is a built tiles folder; its `current` release is measured (the 1,000,000-parcel sample:
`python -m publish sample --out S --parcels 1000000`, `build_tiles.py --catalog S/layers.yml
--out T`). Needs (Debian) wrk, nginx, gdal-bin, postgresql + postgresql-15-postgis-3, nodejs/npm,
libsqlite3-mod-spatialite; (PyPI) pysqlite3-binary; root (the PostgreSQL cluster runs as
`postgres`). tileserver-gl-light is installed with npm into ~/.cache/onemap-bench when missing,
tipg with pip into a venv of its own there (~/.cache/onemap-bench/tipg-venv: its pins are not ours).
Without `--only`, everything below runs.

Tiles (wrk -t2 -c64 --latency, each request a random path from `--tiles-sample` tiles drawn from
the public archive's own tile list; `Accept-Encoding: gzip`), at 1 and 2 workers where the server
has workers:
  ours        `python -m publish serve` (uvicorn[standard], in-memory tile cache, JSON access log)
  nginx       the same tiles extracted as static files (gzip bytes, Content-Encoding: gzip)
  pygeoapi    stock pygeoapi (its own Starlette app under uvicorn) with its MVT-tippecanoe provider
              on a z/x/y directory of the same tiles
  tileserver  tileserver-gl-light (one node process) on the same PMTiles archive
and, to show where the time goes: ours-nolog (no access log), bare (one Starlette route from a
dict) and raw (a bare ASGI callable from a dict: what uvicorn itself costs), both at 1 and 2
workers, from bench/bare_tiles.py

Features (wrk -t2 -c16, `--boxes` random ~1 km boxes in the city, `items?bbox=…&limit=100` on the
current-use parcels `dltb`, the largest layer), at 1 and 2 workers:
  ours        our R-tree GeoPackage provider (publish.ogc.features)
  gpkg        stock pygeoapi, its SQLiteGPKG provider on the same GeoPackage table
  postgis     stock pygeoapi, its PostgreSQL provider, the table loaded into PostGIS by
              publish.ogc.postgis.load_tables (a throwaway PostgreSQL 15 cluster)
  tipg        tipg (Development Seed's OGC Features server on PostGIS, asyncpg; uvicorn with
              the same number of workers) on the same PostGIS table
(`--only tipg`: ours and tipg only.) The CPU per request of postgis and tipg counts the
PostgreSQL processes' too (utime + stime from /proc, over the run).

CQL2 (`--only cql`; wrk -t2 -c16, at 1 and 2 workers): `--queries` selections, limit 100, by
turns `YDYHFLDM LIKE '07%' AND MJ > 20000` (planned use `ydyh`; prefix and floor random), and on
the current use `dltb` an IN list of three land-use codes, `MJ BETWEEN a AND b`, S_INTERSECTS
with a random ~1 km hexagon, and that hexagon AND a code prefix:
  ours        `filter=…&filter-lang=cql2-text` (publish.ogc.cql on the GeoPackage provider)
  postgis     stock pygeoapi's PostgreSQL provider, `filter=…&filter-lang=cql-text`: pygeoapi
              parses `filter` as ECQL (pygeofilter), so the same selection is written there with
              INTERSECTS(geom, …) for S_INTERSECTS(geometry, …); the rest reads the same

In flight (`--only inflight`): ours at 1 worker, bbox queries as above at wrk -c4 and -c16 (does
the CPU a request grow with the requests in flight in one process?); with `--baseline CHECKOUT`
(e.g. `git archive main | tar -x -C /tmp/base`) that checkout's `publish` first, in the same
run, as `ours-base` (before/after a change).

Before each measured run (after its 3 s warm-up) the bench waits until the 1-minute load
average is below `--quiet` (1.0; at most `--quiet-wait` s) and records it beside the run: a row
whose load is 1.0 or more was not taken on a quiet machine.

Each server's answers are checked before it is measured (same tile bytes; for bbox, the same
numberMatched as ours; tipg and the CQL2 selections: the same numberMatched and the same feature
ids as ours, asked with sortby=MJ so that pages agree). Prints Markdown tables with requests/s,
latency percentiles, errors and the ratios.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import math
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from support.ports import free_port  # noqa: E402

PYTHON = sys.executable
TILESERVER = "tileserver-gl-light@5"
NPM_CACHE = Path.home() / ".cache" / "onemap-bench" / "tileserver-gl-light"
TIPG_VENV = Path.home() / ".cache" / "onemap-bench" / "tipg-venv"
PG_SCHEMA = "bench_public"
FEATURE_LAYER = "dltb"
CQL_LAYERS = (FEATURE_LAYER, "ydyh")
LIMIT = 100

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local headers = {}
local encoding = os.getenv("BENCH_ACCEPT_ENCODING") or ""
if encoding ~= "" then headers["Accept-Encoding"] = encoding end
local origin = os.getenv("BENCH_ORIGIN") or ""
if origin ~= "" then headers["Origin"] = origin end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads * 7919)
end
function init(args)
  math.randomseed(seed + os.time())
end
function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50": %d, "p90": %d, "p99": %d, "max": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
"""


# -- results ---------------------------------------------------------------------------------


@dataclass
class Run:
    group: str  # tiles | features
    server: str
    workers: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    requests: int
    mb_per_s: float
    cpu_us: float  # server CPU time per request (its processes; PostgreSQL's too), µs
    load: float = 0.0  # the 1-minute load average when the measured run started


@dataclass
class Report:
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def median(self, group: str, server: str, workers: int) -> Run | None:
        runs = [r for r in self.runs if (r.group, r.server, r.workers) == (group, server, workers)]
        if not runs:
            return None
        runs.sort(key=lambda r: r.rps)
        return runs[(len(runs) - 1) // 2]  # of an even number, the lower middle


# -- processes -------------------------------------------------------------------------------


@contextmanager
def process(
    argv: Sequence[str],
    *,
    ready: str,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server in a process group of its own, ready once `ready` answers 200; stopped (that
    group only) on exit."""
    import httpx

    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=out,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {tail(log)}")
            try:
                if httpx.get(ready, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} not ready in {timeout} s: {tail(log)}")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def tail(path: Path, n: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from `state` on


def group_pids(pgid: int) -> list[int]:
    """The processes of process group `pgid` (a server and its workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[2]) == pgid:
                out.append(int(entry.name))
    return out


def postgres_pids(port: int) -> list[int]:
    """The postmaster listening on `port` and its children (the backends)."""
    master = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"/postgres") and f"-p {port}".encode() in b" ".join(argv):
            master = int(entry.name)
            break
    if master is None:
        return []
    out = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == master:
                out.append(int(entry.name))
    return out


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of `pids` (utime, stime: /proc/<pid>/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def wrk(
    url: str,
    paths: Path,
    *,
    duration: int,
    connections: int,
    script: Path,
    gzip_ok: bool,
    timeout_s: int = 30,
    origin: str = "",
) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_PATHS": str(paths),
        "BENCH_ACCEPT_ENCODING": "gzip" if gzip_ok else "",
        "BENCH_ORIGIN": origin,  # an Origin header on every request, unless empty
    }
    command = [
        *("wrk", "-t2", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout_s}s"),
        *("--latency", "-s", str(script), url),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    raise RuntimeError(f"wrk printed no result: {done.stdout}{done.stderr}")


def wait_quiet(limit: float, most: float) -> float:
    """Wait until the 1-minute load average is below `limit` (at most `most` seconds, then go
    on: the run's row shows its load); the load average when the wait ended."""
    deadline = time.monotonic() + most
    while (load := os.getloadavg()[0]) >= limit and time.monotonic() < deadline:
        time.sleep(2)
    return load


def measure(
    report: Report,
    group: str,
    server: str,
    workers: int,
    base: str,
    paths: Path,
    args: argparse.Namespace,
    script: Path,
    pids: Callable[[], list[int]],
    connections: int | None = None,
    origin: str = "",
) -> Run:
    tiles = group == "tiles"
    connections = connections or (64 if tiles else 16)
    options = {"connections": connections, "script": script, "gzip_ok": tiles, "origin": origin}
    wrk(base, paths, duration=3, **options)  # warm
    load = wait_quiet(args.quiet, args.quiet_wait)
    watched = pids()
    before = cpu_seconds(watched)
    # a server answering a few requests a second gets a longer run, for enough answers
    duration = args.duration if server != "gpkg" else max(args.duration, 40)
    r = wrk(base, paths, duration=duration, **options)
    used = cpu_seconds(watched) - before
    seconds = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    run = Run(
        group=group,
        server=server,
        workers=workers,
        rps=r["requests"] / seconds,
        p50_ms=r["p50"] / 1000,
        p90_ms=r["p90"] / 1000,
        p99_ms=r["p99"] / 1000,
        errors=errors,
        requests=r["requests"],
        mb_per_s=r["bytes"] / seconds / 1e6,
        cpu_us=used / max(r["requests"], 1) * 1e6,
        load=load,
    )
    report.runs.append(run)
    print(
        f"  {group:8s} {server:10s} {workers}w  {run.rps:9.0f} req/s  p50 {run.p50_ms:7.2f} ms"
        f"  p99 {run.p99_ms:8.2f} ms  {run.cpu_us:7.0f} µs CPU/req  errors {errors}"
        f"  (load before {load:.2f})",
        file=sys.stderr,
        flush=True,
    )
    return run


# -- the data ---------------------------------------------------------------------------------


def tile_list(archive: Path) -> list[tuple[int, int, int, int, int]]:
    """Every addressed tile of the archive: (z, x, y, offset, length), offsets absolute."""
    from pmtiles.tile import deserialize_directory, deserialize_header, tileid_to_zxy

    with archive.open("rb") as f:

        def read(offset: int, length: int) -> bytes:
            f.seek(offset)
            return f.read(length)

        h = deserialize_header(read(0, 127))
        out: list[tuple[int, int, int, int, int]] = []

        def walk(offset: int, length: int) -> None:
            for e in deserialize_directory(read(offset, length)):
                if e.run_length == 0:
                    walk(h["leaf_directory_offset"] + e.offset, e.length)
                    continue
                for i in range(e.run_length):
                    z, x, y = tileid_to_zxy(e.tile_id + i)
                    out.append((z, x, y, h["tile_data_offset"] + e.offset, e.length))

        walk(h["root_offset"], h["root_length"])
    return out


def extract(archive: Path, tiles: Sequence[tuple[int, int, int, int, int]], root: Path) -> None:
    """The tiles as files root/{z}/{x}/{y}.pbf (stored gzip bytes) + tippecanoe's metadata.json."""
    from publish.tiles.archive import Archive

    with archive.open("rb") as f:
        for z, x, y, offset, length in tiles:
            path = root / str(z) / str(x) / f"{y}.pbf"
            path.parent.mkdir(parents=True, exist_ok=True)
            f.seek(offset)
            path.write_bytes(f.read(length))
    with Archive(archive) as a:
        meta = a.metadata()
        minzoom, maxzoom, bounds, center = a.minzoom, a.maxzoom, a.bounds, a.center
    doc = {
        "name": root.name,
        "format": "pbf",
        "minzoom": str(minzoom),
        "maxzoom": str(maxzoom),
        "bounds": ",".join(map(str, bounds)),
        "center": ",".join(map(str, center)),
        "json": json.dumps({"vector_layers": meta.get("vector_layers", [])}),
    }
    (root / "metadata.json").write_text(json.dumps(doc), encoding="utf-8")


def random_points(gpkg: Path, count: int, seed: int) -> list[tuple[float, float]]:
    """A point inside each of `count` random parcels (so inside the city, denser where parcels
    are), in random order."""
    import pyogrio

    info = pyogrio.read_info(gpkg, layer=FEATURE_LAYER)
    rng = random.Random(seed)
    fids = sorted(rng.sample(range(1, int(info["features"]) + 1), count))
    frame = pyogrio.read_dataframe(
        gpkg,
        layer=FEATURE_LAYER,
        columns=[],
        fid_as_index=True,
        where=f"fid IN ({','.join(map(str, fids))})",
    )
    points = [(p.x, p.y) for p in frame.geometry.representative_point().values]
    rng.shuffle(points)
    return points


def random_boxes(gpkg: Path, count: int, seed: int, side: float = 0.01) -> list[str]:
    """`count` boxes `side` degrees wide (~1 km) centred on random parcels."""
    h = side / 2
    return [
        f"{x - h:.6f},{y - h:.6f},{x + h:.6f},{y + h:.6f}"
        for x, y in random_points(gpkg, count, seed)
    ]


@dataclass(frozen=True)
class CqlQuery:
    """One selection asked of both servers: our cql2-text and stock pygeoapi's ECQL (its
    `filter` parameter goes to pygeofilter's ECQL parser: INTERSECTS on the column `geom`
    where CQL2 says S_INTERSECTS on the queryable `geometry`)."""

    layer: str
    cql2: str
    ecql: str


def cql_queries(gpkg: Path, count: int, seed: int) -> list[CqlQuery]:
    """`count` attribute and spatial selections, by turns: a class prefix with an area floor
    (planned use `ydyh`), IN lists of land-use codes, area BETWEEN, S_INTERSECTS with a random
    ~1 km hexagon, and that hexagon with a code prefix (current use `dltb`)."""
    rng = random.Random(seed)
    points = random_points(gpkg, count, seed)
    codes = ["0101", "0103", "0201", "0301", "0303", "0401", "0703", "1202", "1701", "2307"]
    out = []
    for i, (x, y) in enumerate(points):
        kind = i % 5
        if kind == 0:
            prefix = rng.choice(["01", "03", "07", "08", "10"])
            floor = rng.choice([5000, 20000, 50000, 80000])
            text = f"YDYHFLDM LIKE '{prefix}%' AND MJ > {floor}"
            out.append(CqlQuery("ydyh", text, text))
            continue
        if kind == 1:
            listed = ", ".join(f"'{c}'" for c in rng.sample(codes, 3))
            text = f"DLBM IN ({listed})"
        elif kind == 2:
            low = rng.randrange(10_000, 1_000_000, 1000)
            text = f"MJ BETWEEN {low} AND {low + rng.randrange(1000, 50_000, 1000)}"
        if kind in (1, 2):
            out.append(CqlQuery(FEATURE_LAYER, text, text))
            continue
        ring = []
        for k in range(6):  # a hexagon, radius 0.004°–0.006° (~0.5 km) at each vertex
            r, a = rng.uniform(0.004, 0.006), k * 3.14159265 / 3
            ring.append(f"{x + r * math.cos(a):.6f} {y + r * math.sin(a):.6f}")
        wkt = f"POLYGON(({', '.join([*ring, ring[0]])}))"
        cql2, ecql = f"S_INTERSECTS(geometry, {wkt})", f"INTERSECTS(geom, {wkt})"
        if kind == 4:
            prefix = rng.choice(["01", "03", "07"])
            cql2, ecql = (f"{q} AND DLBM LIKE '{prefix}%'" for q in (cql2, ecql))
        out.append(CqlQuery(FEATURE_LAYER, cql2, ecql))
    return out


def write_paths(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- checks: what each server answers --------------------------------------------------------


def check_tiles(
    base: str, urls: Sequence[str], stored: Sequence[bytes], name: str, report: Report
) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=30, headers={"Accept-Encoding": "gzip"}) as c:
        for url, data in zip(urls, stored, strict=True):
            r = c.get(url)
            if r.status_code != 200:
                raise RuntimeError(f"{name}: {url} → {r.status_code} {r.text[:200]}")
            body = r.content  # httpx undoes a Content-Encoding
            if body[:2] == b"\x1f\x8b":  # gzip bytes sent without Content-Encoding
                body = gzip.decompress(body)
                if "gzip" not in r.headers.get("content-encoding", ""):
                    note = f"{name} sends the stored gzip bytes without Content-Encoding"
                    if note not in report.notes:
                        report.notes.append(note)
            if body != gzip.decompress(data):
                raise RuntimeError(f"{name}: {url} is not the archive's tile")


def check_features(base: str, urls: Sequence[str], name: str) -> list[int | None]:
    import httpx

    with httpx.Client(base_url=base, timeout=120) as c:
        return [page(c, url, name)[0] for url in urls]


def page(client: Any, url: str, name: str) -> tuple[int | None, list[str]]:
    """numberMatched and the ids of one answer (a FeatureCollection)."""
    r = client.get(url)
    if r.status_code != 200:
        raise RuntimeError(f"{name}: {url} → {r.status_code} {r.text[:300]}")
    body = r.json()
    if body.get("type") != "FeatureCollection":
        raise RuntimeError(f"{name}: {url} is not a FeatureCollection")
    return body.get("numberMatched"), [str(f.get("id")) for f in body["features"]]


def check_same(
    ours_base: str, ours_urls: Sequence[str], base: str, urls: Sequence[str], name: str
) -> int:
    """Each pair of URLs answers the same numberMatched and the same features (ids), asked
    sorted by area (`sortby=MJ`) so that a page is the same page on both; the features
    compared."""
    import httpx

    compared = 0
    with (
        httpx.Client(base_url=ours_base, timeout=120) as a,
        httpx.Client(base_url=base, timeout=120) as b,
    ):
        for mine, theirs in zip(ours_urls, urls, strict=True):
            want = page(a, f"{mine}&sortby=MJ", "ours")
            got = page(b, f"{theirs}&sortby=MJ", name)
            if got[0] != want[0] or set(got[1]) != set(want[1]):
                raise RuntimeError(
                    f"{name}: {theirs} → numberMatched {got[0]}, ids {got[1][:5]}…; ours: "
                    f"{mine} → {want[0]}, {want[1][:5]}…"
                )
            compared += len(want[1])
    return compared


# -- servers ----------------------------------------------------------------------------------


def ours(
    tiles_dir: Path,
    workers: int,
    log: Path,
    *,
    log_level: str = "info",
    settings_env: dict[str, str] | None = None,
    source: Path = REPO,
    server: str | None = None,
) -> Any:
    """`python -m publish serve` with its defaults (settings from no PUBLISH_* variable but
    those of `settings_env`), the `publish` package of the checkout `source`, under the ASGI
    server `server` (`serve --server`; None: serve's default, granian since commit 1578638)."""
    port = free_port()
    argv = [
        *(PYTHON, "-m", "publish", "serve", "--tiles", str(tiles_dir)),
        *("--port", str(port), "--workers", str(workers), "--log-level", log_level),
    ]
    if server is not None:  # (a checkout from before `--server` knows uvicorn only)
        argv += ["--server", server]
    env = {k: "" for k in os.environ if k.startswith("PUBLISH_")}
    env.update(settings_env or {})
    env["PYTHONPATH"] = str(source)
    ready = f"http://127.0.0.1:{port}/healthz"
    return port, process(argv, ready=ready, log=log, env=env, cwd=source)


def bare(
    archive: Path,
    log: Path,
    probe: str,
    app: str = "app",
    workers: int = 1,
    server: str = "uvicorn",
) -> Any:
    """bench/bare_tiles.py: tiles from a dict, nothing else (the floors): `app` one Starlette
    route, `raw` a bare ASGI callable; under uvicorn[standard] or granian (its ASGI interface,
    as `serve --server granian` runs it)."""
    port = free_port()
    if server == "granian":
        argv = [
            *(PYTHON, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"),
            *("--port", str(port), "--loop", "uvloop", "--no-ws", "--log-level", "warning"),
            *("--workers", str(workers), f"bench.bare_tiles:{app}"),
        ]
    else:
        argv = [
            *(PYTHON, "-m", "uvicorn", f"bench.bare_tiles:{app}", "--host", "127.0.0.1"),
            *("--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            *("--workers", str(workers)),
        ]
    env = {"BENCH_ARCHIVE": str(archive)}
    return port, process(argv, ready=f"http://127.0.0.1:{port}{probe}", log=log, env=env, cwd=REPO)


def nginx(root: Path, work: Path, workers: int) -> Any:
    port = free_port()
    prefix = work / f"nginx{workers}"
    prefix.mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""
user root;
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log {prefix}/access.log;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=20000 inactive=60s;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{
      types {{ }}
      default_type application/vnd.mapbox-vector-tile;
      add_header Content-Encoding gzip;
      add_header Cache-Control "public, max-age=3600";
    }}
  }}
}}
""",
        encoding="utf-8",
    )
    probe = next(p for p in root.rglob("*.pbf"))
    ready = f"http://127.0.0.1:{port}/{probe.relative_to(root).as_posix()}"
    return port, process(
        ["nginx", "-c", str(conf), "-p", str(prefix)], ready=ready, log=prefix / "stdout.log"
    )


def stock_config(
    work: Path, port: int, xyz: Path, gpkg: Path, pg: dict[str, Any] | None, bounds: list[float]
) -> tuple[Path, Path]:
    """A pygeoapi config (our server metadata) with four collections: `public` (MVT-tippecanoe
    on the extracted tiles), `dltb_gpkg` (SQLiteGPKG), `dltb_pg` and `ydyh_pg` (PostgreSQL);
    its OpenAPI."""
    import yaml

    doc = yaml.safe_load((REPO / "config" / "pygeoapi.yml").read_text(encoding="utf-8"))
    doc["server"]["url"] = f"http://127.0.0.1:{port}"
    doc["server"]["bind"] = {"host": "127.0.0.1", "port": port}
    doc["server"].pop("manager", None)
    doc["logging"] = {"level": "ERROR"}

    def collection(title: str, providers: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "type": "collection",
            "title": title,
            "description": title,
            "keywords": [title],
            "links": [],
            "extents": {
                "spatial": {"bbox": bounds, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
            },
            "providers": providers,
        }

    resources = {
        "public": collection(
            "tiles",
            [
                {
                    "type": "tile",
                    "name": "MVT-tippecanoe",
                    "data": str(xyz),
                    "options": {"zoom": {"min": 0, "max": 15}, "schemes": ["WebMercatorQuad"]},
                    "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"},
                }
            ],
        ),
        "dltb_gpkg": collection(
            "dltb (SQLiteGPKG)",
            [
                {
                    "type": "feature",
                    "name": "SQLiteGPKG",
                    "data": str(gpkg),
                    "id_field": "fid",
                    "table": FEATURE_LAYER,
                }
            ],
        ),
    }
    for layer in CQL_LAYERS if pg is not None else ():
        resources[f"{layer}_pg"] = collection(
            f"{layer} (PostgreSQL)",
            [
                {
                    "type": "feature",
                    "name": "PostgreSQL",
                    "data": pg,
                    "id_field": "fid",
                    "table": layer,
                    "geom_field": "geom",
                }
            ],
        )
    doc["resources"] = resources
    config = work / f"pygeoapi-{port}.yml"
    config.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    openapi = work / f"openapi-{port}.yml"
    done = subprocess.run(
        [
            *(PYTHON, "-c", "import bench.stock_pygeoapi, sys; from pygeoapi import cli; cli()"),
            *("openapi", "generate", str(config), "--output-file", str(openapi)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)},
        check=False,
    )
    if done.returncode != 0 or not openapi.exists():
        raise RuntimeError(f"pygeoapi openapi generate failed: {done.stdout}{done.stderr}")
    return config, openapi


def stock(config: Path, openapi: Path, port: int, workers: int, log: Path) -> Any:
    argv = [
        *(PYTHON, "-m", "uvicorn", "bench.stock_pygeoapi:APP"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--log-level", "warning"),
    ]
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    return process(argv, ready=f"http://127.0.0.1:{port}/", log=log, env=env, cwd=REPO)


def tipg_python() -> Path:
    """The Python of a venv of its own with tipg and uvicorn (its pins are not ours), made in
    TIPG_VENV when missing."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing tipg into {TIPG_VENV}", file=sys.stderr, flush=True)
        subprocess.run(["python3", "-m", "venv", str(TIPG_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn[standard]"]
        subprocess.run(pip, check=True)
    return python


def tipg(pg: dict[str, Any], schema: str, workers: int, log: Path) -> Any:
    """tipg (uvicorn, `workers` processes) on the tables of `schema`; collection ids are
    `schema.table`."""
    port = free_port()
    argv = [
        *(str(tipg_python()), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1"),
        *("--port", str(port), "--workers", str(workers), "--log-level", "warning"),
    ]
    env = {
        "DATABASE_URL": f"postgresql://{pg['user']}@{pg['host']}:{pg['port']}/{pg['dbname']}",
        "TIPG_DB_SCHEMAS": json.dumps([schema]),
    }
    ready = f"http://127.0.0.1:{port}/collections/{schema}.{FEATURE_LAYER}"
    return port, process(argv, ready=ready, log=log, env=env, cwd=log.parent)


def tileserver_main() -> Path:
    """tileserver-gl-light's entry point (its command is named tileserver-gl), npm-installed
    into NPM_CACHE when missing."""
    main = NPM_CACHE / "node_modules" / "tileserver-gl-light" / "src" / "main.js"
    if not main.exists():
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        print(f"installing {TILESERVER} into {NPM_CACHE}", file=sys.stderr, flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", TILESERVER],
            cwd=NPM_CACHE,
            check=True,
        )
    return main


def tileserver(archive: Path, work: Path) -> Any:
    port = free_port()
    root = work / "tileserver"
    root.mkdir(exist_ok=True)
    link = root / "public.pmtiles"
    link.unlink(missing_ok=True)
    link.symlink_to(archive)
    config = root / "config.json"
    config.write_text(
        json.dumps(
            {
                "options": {"paths": {"root": str(root), "pmtiles": str(root)}},
                "data": {"public": {"pmtiles": "public.pmtiles"}},
            }
        ),
        encoding="utf-8",
    )
    argv = ["node", str(tileserver_main()), "--config", str(config), "--port", str(port)]
    argv += ["--bind", "127.0.0.1"]
    return port, process(
        argv, ready=f"http://127.0.0.1:{port}/data/public.json", log=root / "log.txt", cwd=root
    )


# -- the run ---------------------------------------------------------------------------------


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every side-by-side bench here takes: the quiet-machine wait, the seed, the
    working folder."""
    parser.add_argument(
        "--quiet",
        type=float,
        default=1.0,
        help="wait before each measured run until the 1-minute load average is below this",
    )
    parser.add_argument("--quiet-wait", type=float, default=240, help="at most, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", help="working folder (default: a temporary one, deleted)")


def work_folder(stack: ExitStack, work: str | None, prefix: str) -> Path:
    """`--work` (made if missing), or a temporary folder deleted when `stack` closes."""
    if work:
        folder = Path(work).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    stack.callback(shutil.rmtree, folder, True)
    return folder


def print_heading(note: str = "") -> None:
    """The command line, when, where: the first line of a report."""
    command = " ".join(["python", *sys.argv])
    print(
        f"`.venv/bin/{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.node()}, {os.cpu_count()} cores; the load average before each measured "
        f"run is in its row{note})\n"
    )


def medians(report: Report, group: str) -> Iterator[tuple[Run, str]]:
    """Each (server, workers) of `group` in the order first measured: its median run and the
    load averages before all its runs."""
    seen: list[tuple[str, int]] = []
    for r in report.runs:
        key = (r.server, r.workers)
        if r.group != group or key in seen:
            continue
        seen.append(key)
        m = report.median(group, *key)
        assert m is not None
        loads = ", ".join(
            f"{x.load:.2f}" for x in report.runs if (x.group, x.server, x.workers) == (group, *key)
        )
        yield m, loads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", required=True, help="a built tiles folder (its current)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--tiles-sample", type=int, default=5000)
    parser.add_argument("--boxes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything; medians")
    parser.add_argument("--only", choices=("tiles", "features", "tipg", "cql", "inflight"))
    parser.add_argument(
        "--queries",
        type=int,
        default=20000,
        help="CQL2 selections (cql): enough that a run (~6,500 answers a worker) seldom asks "
        "one twice, so the filters and selections the server keeps for paging clients do not "
        "answer it from memory",
    )
    parser.add_argument(
        "--baseline", help="inflight: also measure the `publish` of this checkout (before)"
    )
    add_run_arguments(parser)
    args = parser.parse_args()

    tiles_dir = Path(args.tiles).resolve()
    release = (tiles_dir / "current").resolve()
    archive = release / "tiles" / "public.pmtiles"
    gpkg = release / "features" / "public.gpkg"
    report = Report()
    with ExitStack() as stack:
        work = work_folder(stack, args.work, "onemap-bench-serve-")
        script = write_paths(work / "random.lua", [WRK_SCRIPT])
        rng = random.Random(args.seed)
        print(f"release {release.name}; work in {work}", file=sys.stderr, flush=True)

        # tiles: a random sample of the archive's own tile list, extracted for nginx/pygeoapi
        all_tiles = tile_list(archive)
        sample = rng.sample(all_tiles, min(args.tiles_sample, len(all_tiles)))
        xyz = work / "xyz" / "public"
        extract(archive, sample, xyz)
        with archive.open("rb") as f:
            probes = []
            for z, x, y, offset, length in sample[:20]:
                f.seek(offset)
                probes.append((z, x, y, f.read(length)))
        tile_paths = {
            "ours": [f"/tiles/public/{z}/{x}/{y}.mvt" for z, x, y, _, _ in sample],
            "nginx": [f"/{z}/{x}/{y}.pbf" for z, x, y, _, _ in sample],
            "pygeoapi": [
                f"/collections/public/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt"
                for z, x, y, _, _ in sample
            ],
            "tileserver": [f"/data/public/{z}/{x}/{y}.pbf" for z, x, y, _, _ in sample],
        }
        tile_paths["ours-nolog"] = tile_paths["bare"] = tile_paths["raw"] = tile_paths["ours"]
        tile_files = {k: write_paths(work / f"tiles-{k}.txt", v) for k, v in tile_paths.items()}
        probe_urls = {k: v[:20] for k, v in tile_paths.items()}
        stored = [data for *_, data in probes]
        sizes = [length for *_, length in sample]
        report.notes.append(
            f"{len(all_tiles):,} tiles in the public archive ({archive.stat().st_size / 1e6:.0f} MB); "
            f"{len(sample):,} drawn at random, mean {statistics.mean(sizes) / 1e3:.1f} KB stored, "
            f"zooms {min(t[0] for t in sample)}–{max(t[0] for t in sample)}"
        )

        # features: random ~1 km boxes; the table in PostGIS for the stock PostgreSQL provider
        boxes = random_boxes(gpkg, args.boxes, args.seed)
        query = f"limit={LIMIT}&f=json"
        tipg_items = f"/collections/{PG_SCHEMA}.{FEATURE_LAYER}/items"
        feature_paths = {
            "ours": [f"/ogc/collections/{FEATURE_LAYER}/items?bbox={b}&{query}" for b in boxes],
            "gpkg": [f"/collections/dltb_gpkg/items?bbox={b}&{query}" for b in boxes],
            "postgis": [f"/collections/dltb_pg/items?bbox={b}&{query}" for b in boxes],
            "tipg": [f"{tipg_items}?bbox={b}&limit={LIMIT}&f=geojson" for b in boxes],
        }
        # CQL2: the same selections, in our cql2-text and in stock pygeoapi's ECQL
        cql = cql_queries(gpkg, args.queries, args.seed + 1)
        cql_paths = {
            "ours": [
                f"/ogc/collections/{q.layer}/items?filter={quote(q.cql2)}"
                f"&filter-lang=cql2-text&{query}"
                for q in cql
            ],
            "postgis": [
                f"/collections/{q.layer}_pg/items?filter={quote(q.ecql)}&filter-lang=cql-text&{query}"
                for q in cql
            ],
        }
        cql_files = {k: write_paths(work / f"cql-{k}.txt", v) for k, v in cql_paths.items()}
        feature_paths["ours-base"] = feature_paths["ours"]  # inflight: the --baseline checkout
        feature_files = {
            k: write_paths(work / f"features-{k}.txt", v) for k, v in feature_paths.items()
        }
        pg_data = None
        if args.only not in ("tiles", "inflight"):
            from publish.ogc.postgis import load_tables
            from support.postgis import postgis_cluster

            db = stack.enter_context(postgis_cluster("bench", ("shared_buffers=512MB",)))
            started = time.monotonic()
            load_tables(db, gpkg, PG_SCHEMA, CQL_LAYERS)
            report.notes.append(
                f"{', '.join(CQL_LAYERS)} loaded into PostGIS with ogr2ogr in "
                f"{time.monotonic() - started:.0f} s"
            )
            pg_data = db.provider_data(PG_SCHEMA)

        from publish.tiles.archive import Archive

        with Archive(archive) as a:
            bounds = [round(v, 6) for v in a.bounds]
        stock_port = free_port()

        @functools.cache
        def stock_files() -> tuple[Path, Path]:
            """Stock pygeoapi's config and OpenAPI, made on first use (not in the tipg and
            inflight modes)."""
            # a copy: pygeoapi's SQLiteGPKG provider (SpatiaLite) writes to the file it opens
            # (at `openapi generate` already), and the server refuses a release whose file
            # then differs from its manifest
            stock_gpkg = work / "stock-public.gpkg"
            shutil.copyfile(gpkg, stock_gpkg)
            return stock_config(work, stock_port, xyz, stock_gpkg, pg_data, bounds)

        def stock_server(workers: int, log: Path) -> Any:
            return stock(*stock_files(), stock_port, workers, log)

        pg_port = None if pg_data is None else int(pg_data["port"])

        def run(
            group: str, name: str, workers: int, base: str, pids: Callable[[], list[int]]
        ) -> None:
            files = {"tiles": tile_files, "cql": cql_files}.get(group, feature_files)
            measure(report, group, name, workers, base, files[name], args, script, pids)

        def tiles_round() -> None:
            for workers in (1, 2):
                port, server = nginx(xyz, work, workers)
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    check_tiles(base, probe_urls["nginx"], stored, "nginx", report)
                    run("tiles", "nginx", workers, base, lambda: group_pids(proc.pid))
                port, server = ours(tiles_dir, workers, work / f"ours-{workers}.log")
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    check_tiles(base, probe_urls["ours"], stored, "ours", report)
                    run("tiles", "ours", workers, base, lambda: group_pids(proc.pid))
                log = work / f"stock-{workers}.log"
                with stock_server(workers, log) as proc:
                    base = f"http://127.0.0.1:{stock_port}"
                    check_tiles(base, probe_urls["pygeoapi"], stored, "pygeoapi", report)
                    run("tiles", "pygeoapi", workers, base, lambda: group_pids(proc.pid))
            port, server = tileserver(archive, work)
            with server as proc:
                base = f"http://127.0.0.1:{port}"
                check_tiles(base, probe_urls["tileserver"], stored, "tileserver", report)
                run("tiles", "tileserver", 1, base, lambda: group_pids(proc.pid))
            # where our time goes: without the access log, a bare Starlette route, bare ASGI
            port, server = ours(tiles_dir, 1, work / "ours-nolog.log", log_level="warning")
            with server as proc:
                base = f"http://127.0.0.1:{port}"
                check_tiles(base, probe_urls["ours"], stored, "ours", report)
                run("tiles", "ours-nolog", 1, base, lambda: group_pids(proc.pid))
            floors = (("bare", "app", 1), ("bare", "app", 2), ("raw", "raw", 1), ("raw", "raw", 2))
            for name, app, workers in floors:
                log = work / f"{name}{workers}.log"
                port, server = bare(archive, log, probe_urls["ours"][0], app, workers)
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    check_tiles(base, probe_urls["ours"], stored, name, report)
                    run("tiles", name, workers, base, lambda: group_pids(proc.pid))

        def with_postgres(pgid: int) -> Callable[[], list[int]]:
            return lambda: group_pids(pgid) + (postgres_pids(pg_port) if pg_port else [])

        def features_round() -> None:
            probes = 30
            for workers in (1, 2):
                port, server = ours(tiles_dir, workers, work / f"ours-f{workers}.log")
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    want = check_features(base, feature_paths["ours"][:probes], "ours")
                    run("features", "ours", workers, base, lambda: group_pids(proc.pid))
                    if pg_data is not None:  # tipg's answers are compared with ours
                        tipg_port, tipg_server = tipg(
                            pg_data, PG_SCHEMA, workers, work / f"tipg-{workers}.log"
                        )
                        with tipg_server as theirs:
                            their_base = f"http://127.0.0.1:{tipg_port}"
                            mine = feature_paths["ours"][:probes]
                            theirs_urls = feature_paths["tipg"][:probes]
                            n = check_same(base, mine, their_base, theirs_urls, "tipg")
                            note = f"tipg: {probes} boxes' answers ({n} features) equal to ours"
                            if note not in report.notes:
                                report.notes.append(note)
                            run("features", "tipg", workers, their_base, with_postgres(theirs.pid))
                if args.only == "tipg":
                    continue
                log = work / f"stock-f{workers}.log"
                with stock_server(workers, log) as proc:
                    base = f"http://127.0.0.1:{stock_port}"
                    for name in ("gpkg", "postgis"):
                        if name == "postgis" and pg_port is None:
                            continue
                        try:
                            n = probes if name != "gpkg" else 5  # seconds a query at 1M rows
                            got = check_features(base, feature_paths[name][:n], name)
                        except RuntimeError as exc:
                            note = f"stock pygeoapi {name} provider could not be measured: {exc}"
                            report.notes.append(note)
                            continue
                        if got != want[: len(got)]:
                            if any(g is not None for g in got):
                                raise RuntimeError(f"{name}: numberMatched {got} ≠ ours {want}")
                            note = f"stock pygeoapi {name}: no numberMatched in its answers"
                            if note not in report.notes:
                                report.notes.append(note)

                        def pids(name: str = name, pgid: int = proc.pid) -> list[int]:
                            extra = postgres_pids(pg_port) if name == "postgis" and pg_port else []
                            return group_pids(pgid) + extra

                        run("features", name, workers, base, pids)

        def cql_round() -> None:
            probes = 50
            for workers in (1, 2):
                port, server = ours(tiles_dir, workers, work / f"ours-cql{workers}.log")
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    log = work / f"stock-cql{workers}.log"
                    with stock_server(workers, log) as theirs:
                        their_base = f"http://127.0.0.1:{stock_port}"
                        mine, theirs_urls = (
                            cql_paths["ours"][:probes],
                            cql_paths["postgis"][:probes],
                        )
                        n = check_same(base, mine, their_base, theirs_urls, "postgis")
                        note = (
                            f"CQL2: {probes} selections' answers ({n} features) from stock "
                            "pygeoapi's PostgreSQL provider equal to ours"
                        )
                        if note not in report.notes:
                            report.notes.append(note)
                        run("cql", "ours", workers, base, lambda: group_pids(proc.pid))
                        run("cql", "postgis", workers, their_base, with_postgres(theirs.pid))

        def inflight_round() -> None:
            checkouts = [("ours", REPO)]
            if args.baseline:
                checkouts.insert(0, ("ours-base", Path(args.baseline).resolve()))
            for name, source in checkouts:
                log = work / f"{name}-inflight.log"
                port, server = ours(tiles_dir, 1, log, log_level="warning", source=source)
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    check_features(base, feature_paths["ours"][:5], name)
                    for c in (4, 16):
                        paths = feature_files[name]
                        pids = lambda: group_pids(proc.pid)  # noqa: E731
                        measure(
                            report, f"inflight-c{c}", name, 1, base, paths, args, script, pids, c
                        )

        rounds = {
            "tiles": tiles_round,
            "features": features_round,
            "tipg": features_round,
            "cql": cql_round,
            "inflight": inflight_round,
        }
        for i in range(args.rounds):
            print(f"round {i + 1} of {args.rounds}", file=sys.stderr, flush=True)
            if args.only is not None:
                rounds[args.only]()
                continue
            for each in (tiles_round, features_round, cql_round, inflight_round):
                each()

    print_report(report, args)
    return 0


def print_report(report: Report, args: argparse.Namespace) -> None:
    print_heading()
    for group, title in (
        ("tiles", "Tiles (wrk -t2 -c64)"),
        ("features", "Features, bbox (wrk -t2 -c16)"),
        ("cql", "Features, CQL2 filters (wrk -t2 -c16)"),
        ("inflight-c4", "Features, bbox, in flight: 1 worker, wrk -t2 -c4"),
        ("inflight-c16", "Features, bbox, in flight: 1 worker, wrk -t2 -c16"),
    ):
        runs = [r for r in report.runs if r.group == group]
        if not runs:
            continue
        print(f"**{title}**, medians of {args.rounds} round(s), {args.duration} s each:\n")
        print(
            "| server | workers | req/s | answers | p50 ms | p90 ms | p99 ms | MB/s"
            " | server (+PostgreSQL) CPU µs/req | errors | load before (all rounds) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for m, loads in medians(report, group):
            print(
                f"| {m.server} | {m.workers} | {m.rps:,.1f} | {m.requests:,} | {m.p50_ms:.2f} |"
                f" {m.p90_ms:.2f} |"
                f" {m.p99_ms:.2f} | {m.mb_per_s:.1f} | {m.cpu_us:,.0f} | {m.errors} | {loads} |"
            )
        print()
    # (what, group, ours' workers, theirs, their workers, aim)
    ratios = [
        ("nginx (static files)", "tiles", 2, "nginx", 2, "≥ 0.6"),
        ("nginx (static files)", "tiles", 1, "nginx", 1, ""),
        ("pygeoapi MVT-tippecanoe", "tiles", 1, "pygeoapi", 1, "≥ 5"),
        ("pygeoapi MVT-tippecanoe", "tiles", 2, "pygeoapi", 2, "≥ 5"),
        ("tileserver-gl-light (1 process)", "tiles", 1, "tileserver", 1, ""),
        ("bare Starlette, tiles from a dict", "tiles", 1, "bare", 1, ""),
        ("bare Starlette, tiles from a dict", "tiles", 2, "bare", 2, ""),
        ("bare ASGI on uvicorn, tiles from a dict (the floor)", "tiles", 1, "raw", 1, ""),
        ("bare ASGI on uvicorn, tiles from a dict (the floor)", "tiles", 2, "raw", 2, ""),
        ("stock pygeoapi, SQLiteGPKG", "features", 1, "gpkg", 1, "≥ 10"),
        ("stock pygeoapi, SQLiteGPKG", "features", 2, "gpkg", 2, "≥ 10"),
        ("stock pygeoapi, PostgreSQL on PostGIS", "features", 1, "postgis", 1, "≥ 2"),
        ("stock pygeoapi, PostgreSQL on PostGIS", "features", 2, "postgis", 2, "≥ 2"),
        ("tipg on PostGIS", "features", 1, "tipg", 1, "≥ 1.5"),
        ("tipg on PostGIS", "features", 2, "tipg", 2, "≥ 1.5"),
        ("stock pygeoapi PostgreSQL, CQL2 (its ECQL)", "cql", 1, "postgis", 1, "≥ 3"),
        ("stock pygeoapi PostgreSQL, CQL2 (its ECQL)", "cql", 2, "postgis", 2, "≥ 3"),
        ("--baseline (before), 4 in flight", "inflight-c4", 1, "ours-base", 1, ""),
        ("--baseline (before), 16 in flight", "inflight-c16", 1, "ours-base", 1, ""),
    ]
    print("| ours against | group | workers | req/s ratio | CPU/request, theirs ÷ ours | aim |")
    print("|---|---|---|---|---|---|")
    for what, group, mine, theirs, their_workers, aim in ratios:
        a, b = report.median(group, "ours", mine), report.median(group, theirs, their_workers)
        if a is None or b is None or b.rps == 0:
            continue
        cpu = f"{b.cpu_us / a.cpu_us:.2f}×" if a.cpu_us > 0 else "–"
        print(f"| {what} | {group} | {mine} | {a.rps / b.rps:.2f}× | {cpu} | {aim} |")
    print()
    for note in report.notes:
        print(f"- {note}")


if __name__ == "__main__":
    raise SystemExit(main())
