"""Serving throughput and latency, side by side in one run, on one release (issue 4).

    .venv/bin/python bench/serve.py --tiles /work/bench-data/tiles1m [--duration 15]
        [--tiles-sample 5000] [--boxes 2000] [--rounds 1] [--only tiles|features]

`--tiles` is a built tiles folder; its `current` release is measured (the 1,000,000-parcel sample:
`python -m publish sample --out S --parcels 1000000`, `build_tiles.py --catalog S/layers.yml
--out T`). Needs (Debian) wrk, nginx, gdal-bin, postgresql + postgresql-15-postgis-3, nodejs/npm,
libsqlite3-mod-spatialite; (PyPI) pysqlite3-binary; root (the PostgreSQL cluster runs as
`postgres`). tileserver-gl-light is installed with npm into ~/.cache/onemap-bench when missing.

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

Each server's answers are checked before it is measured (same tile bytes; same numberMatched as
ours). Prints Markdown tables with requests/s, latency percentiles, errors and the ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from support.ports import free_port  # noqa: E402

PYTHON = sys.executable
TILESERVER = "tileserver-gl-light@5"
NPM_CACHE = Path.home() / ".cache" / "onemap-bench" / "tileserver-gl-light"
FEATURE_LAYER = "dltb"
LIMIT = 100

WRK_SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local headers = {}
local encoding = os.getenv("BENCH_ACCEPT_ENCODING") or ""
if encoding ~= "" then headers["Accept-Encoding"] = encoding end
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
) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_PATHS": str(paths),
        "BENCH_ACCEPT_ENCODING": "gzip" if gzip_ok else "",
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
) -> Run:
    tiles = group == "tiles"
    connections = 64 if tiles else 16
    wrk(base, paths, duration=3, connections=connections, script=script, gzip_ok=tiles)  # warm
    watched = pids()
    before = cpu_seconds(watched)
    # a server answering a few requests a second gets a longer run, for enough answers
    duration = args.duration if server != "gpkg" else max(args.duration, 40)
    r = wrk(base, paths, duration=duration, connections=connections, script=script, gzip_ok=tiles)
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
    )
    report.runs.append(run)
    print(
        f"  {group:8s} {server:10s} {workers}w  {run.rps:9.0f} req/s  p50 {run.p50_ms:7.2f} ms"
        f"  p99 {run.p99_ms:8.2f} ms  {run.cpu_us:7.0f} µs CPU/req  errors {errors}",
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


def random_boxes(gpkg: Path, count: int, seed: int, side: float = 0.01) -> list[str]:
    """`count` boxes `side` degrees wide (~1 km) centred on random parcels (so inside the city,
    denser where parcels are)."""
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
    boxes = []
    for geom in frame.geometry.values:
        c = geom.representative_point()
        boxes.append(
            f"{c.x - side / 2:.6f},{c.y - side / 2:.6f},{c.x + side / 2:.6f},{c.y + side / 2:.6f}"
        )
    rng.shuffle(boxes)
    return boxes


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

    matched: list[int | None] = []
    with httpx.Client(base_url=base, timeout=120) as c:
        for url in urls:
            r = c.get(url)
            if r.status_code != 200:
                raise RuntimeError(f"{name}: {url} → {r.status_code} {r.text[:300]}")
            body = r.json()
            if body.get("type") != "FeatureCollection":
                raise RuntimeError(f"{name}: {url} is not a FeatureCollection")
            matched.append(body.get("numberMatched"))
    return matched


# -- servers ----------------------------------------------------------------------------------


def ours(
    tiles_dir: Path,
    workers: int,
    log: Path,
    *,
    log_level: str = "info",
    settings_env: dict[str, str] | None = None,
) -> Any:
    """`python -m publish serve` with its defaults (settings from no PUBLISH_* variable but
    those of `settings_env`)."""
    port = free_port()
    argv = [
        *(PYTHON, "-m", "publish", "serve", "--tiles", str(tiles_dir)),
        *("--port", str(port), "--workers", str(workers), "--log-level", log_level),
    ]
    env = {k: "" for k in os.environ if k.startswith("PUBLISH_")}
    env.update(settings_env or {})
    return port, process(argv, ready=f"http://127.0.0.1:{port}/healthz", log=log, env=env, cwd=REPO)


def bare(archive: Path, log: Path, probe: str, app: str = "app", workers: int = 1) -> Any:
    """bench/bare_tiles.py: tiles from a dict, nothing else (the floors): `app` one Starlette
    route, `raw` a bare ASGI callable."""
    port = free_port()
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
    """A pygeoapi config (our server metadata) with three collections: `public` (MVT-tippecanoe
    on the extracted tiles), `dltb_gpkg` (SQLiteGPKG) and `dltb_pg` (PostgreSQL); its OpenAPI."""
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
    if pg is not None:
        resources["dltb_pg"] = collection(
            "dltb (PostgreSQL)",
            [
                {
                    "type": "feature",
                    "name": "PostgreSQL",
                    "data": pg,
                    "id_field": "fid",
                    "table": FEATURE_LAYER,
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", required=True, help="a built tiles folder (its current)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--tiles-sample", type=int, default=5000)
    parser.add_argument("--boxes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything; medians")
    parser.add_argument("--only", choices=("tiles", "features"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", help="working folder (default: a temporary one, deleted)")
    args = parser.parse_args()

    tiles_dir = Path(args.tiles).resolve()
    release = (tiles_dir / "current").resolve()
    archive = release / "tiles" / "public.pmtiles"
    gpkg = release / "features" / "public.gpkg"
    report = Report()
    with ExitStack() as stack:
        if args.work:
            work = Path(args.work).resolve()
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(tempfile.mkdtemp(prefix="onemap-bench-serve-"))
            stack.callback(shutil.rmtree, work, True)
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
        feature_paths = {
            "ours": [f"/ogc/collections/{FEATURE_LAYER}/items?bbox={b}&{query}" for b in boxes],
            "gpkg": [f"/collections/dltb_gpkg/items?bbox={b}&{query}" for b in boxes],
            "postgis": [f"/collections/dltb_pg/items?bbox={b}&{query}" for b in boxes],
        }
        feature_files = {
            k: write_paths(work / f"features-{k}.txt", v) for k, v in feature_paths.items()
        }
        pg_data = None
        if args.only != "tiles":
            from publish.ogc.postgis import load_tables
            from support.postgis import postgis_cluster

            db = stack.enter_context(postgis_cluster("bench", ("shared_buffers=512MB",)))
            started = time.monotonic()
            load_tables(db, gpkg, "bench_public", [FEATURE_LAYER])
            report.notes.append(
                f"dltb loaded into PostGIS with ogr2ogr in {time.monotonic() - started:.0f} s"
            )
            pg_data = db.provider_data("bench_public")

        from publish.tiles.archive import Archive

        with Archive(archive) as a:
            bounds = [round(v, 6) for v in a.bounds]
        stock_port = free_port()
        config, openapi = stock_config(work, stock_port, xyz, gpkg, pg_data, bounds)

        pg_port = None if pg_data is None else int(pg_data["port"])

        def run(
            group: str, name: str, workers: int, base: str, pids: Callable[[], list[int]]
        ) -> None:
            paths = (tile_files if group == "tiles" else feature_files)[name]
            measure(report, group, name, workers, base, paths, args, script, pids)

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
                with stock(config, openapi, stock_port, workers, log) as proc:
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

        def features_round() -> None:
            probes = 30
            for workers in (1, 2):
                port, server = ours(tiles_dir, workers, work / f"ours-f{workers}.log")
                with server as proc:
                    base = f"http://127.0.0.1:{port}"
                    want = check_features(base, feature_paths["ours"][:probes], "ours")
                    run("features", "ours", workers, base, lambda: group_pids(proc.pid))
                log = work / f"stock-f{workers}.log"
                with stock(config, openapi, stock_port, workers, log) as proc:
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

        for i in range(args.rounds):
            print(f"round {i + 1} of {args.rounds}", file=sys.stderr, flush=True)
            if args.only != "features":
                tiles_round()
            if args.only != "tiles":
                features_round()

    print_report(report, args)
    return 0


def print_report(report: Report, args: argparse.Namespace) -> None:
    command = " ".join(["python", *sys.argv])
    print(
        f"`.venv/bin/{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.node()}, {os.cpu_count()} cores, load average before "
        f"{os.getloadavg()[0]:.1f})\n"
    )
    for group, title in (
        ("tiles", "Tiles (wrk -t2 -c64)"),
        ("features", "Features (wrk -t2 -c16)"),
    ):
        runs = [r for r in report.runs if r.group == group]
        if not runs:
            continue
        print(f"**{title}**, medians of {args.rounds} round(s), {args.duration} s each:\n")
        print(
            "| server | workers | req/s | answers | p50 ms | p90 ms | p99 ms | MB/s"
            " | server CPU µs/req | errors |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        seen = []
        for r in runs:
            key = (r.server, r.workers)
            if key in seen:
                continue
            seen.append(key)
            m = report.median(group, *key)
            assert m is not None
            print(
                f"| {m.server} | {m.workers} | {m.rps:,.1f} | {m.requests:,} | {m.p50_ms:.2f} |"
                f" {m.p90_ms:.2f} |"
                f" {m.p99_ms:.2f} | {m.mb_per_s:.1f} | {m.cpu_us:,.0f} | {m.errors} |"
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
