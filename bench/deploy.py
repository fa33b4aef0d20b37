"""The deployment's speed (issue 15), side by side in one run, on one release.

    .venv/bin/python bench/deploy.py --tiles /work/bench-data/tiles1m [--duration 15]
        [--rounds 3] [--tiles-sample 5000] [--boxes 2000] [--pg-nodes 2]
        [--nginx-workers 2] [--only cache|servers|features] [--quiet 1.0]
        [--base DIR] [--servers uvicorn,granian]

`--tiles` is a built tiles folder; its `current` release is measured and never written to (each
node serves a tiles folder of its own in the working folder, its `releases` linked to the
built ones). Needs (Debian) wrk, nginx, postgresql + postgresql-15-postgis-3, gdal-bin; root (the
PostgreSQL cluster runs as `postgres`, nginx's workers as root). The load generator, the CPU
accounting, the quiet-machine wait and the answer checks are bench/serve.py's.

The primary figure is the CPU time of the server's processes per request (utime + stime from
/proc over the measured run, µs): requests/s on two shared cores swings too much. Requests/s is
the second. Before each measured run (after its 3 s warm-up) the bench waits until the 1-minute
load average is below `--quiet` (1.0; at most `--quiet-wait` s) and prints it in the run's row:
a row whose load is 1.0 or more was not taken on a quiet machine. Medians of `--rounds`.

Tiles through nginx (`--only cache`; wrk -t2 -c64, each request a random path from
`--tiles-sample` tiles drawn from the public archive's tile list; Accept-Encoding: gzip; nginx
with `--nginx-workers` worker processes and the same http-level settings in both rows):
  nginx-store   nginx on the configuration `python -m publish deploy nginx` prints, in front of
                one node (`serve`, 1 worker, its default server), asked for the release's versioned tile URLs
                (/releases/<id>/tiles/public/z/x/y.mvt: public, immutable); every sampled tile
                asked once before the run, so nginx keeps it in its tile store (proxy_store)
                and every measured answer is nginx's copy (X-Cache-Status STORED).
                CPU: nginx's master and workers, and the node's.
  nginx-cache   the same nginx and URLs, every request with an Origin header: the answers come
                from nginx's proxy_cache (filled the same way; every measured answer a HIT).
  nginx-static  nginx serving the same tiles extracted as files (bench/serve.py's nginx row).
                CPU: nginx's master and workers.
  Aim: nginx-store ≥ 0.9× nginx-static: CPU a request at most 1/0.9 = 1.11× static's,
  requests/s at least 0.9× static's.

Our app against the floor under each ASGI server (`--only servers`; the same wrk and tiles,
/tiles/public/z/x/y.mvt; 1 worker; CPU of every process of the server, granian's supervisor too):
  ours-uvicorn  `serve --server uvicorn` (in-memory tile cache, JSON access log: as deployed)
  raw-uvicorn   bench/bare_tiles.py `raw`, a bare ASGI callable answering from a dict, under
                uvicorn[standard] (uvloop, httptools)
  ours-granian  `serve --server granian`
  raw-granian   the same bare callable under granian (`--interface asgi`, uvloop)
  Aim: ours ≤ 1.4× the CPU a tile of the bare callable under the same server.
  base-uvicorn, base-granian (with `--base DIR`, a checkout of the code before a change, e.g.
                `git archive REV | tar -x -C DIR` with publish/viewer/static linked in): that
                checkout's `serve`, measured just before ours in each round, so that a change's
                before/after pair comes from one run. `--servers` chooses the ASGI servers.

bbox features (`--only features`; wrk -t2 -c16, `--boxes` random ~1 km boxes in the city,
`/ogc/collections/dltb/items?bbox=…&limit=100&f=json` on the largest layer; never cached):
  gpkg-node     one node (1 worker) on the release's GeoPackages (our R-tree provider), asked
                directly
  pg-node       one node (1 worker) on the same release published on PostGIS (`python -m
                publish postgis`: publish.release.postgis, a throwaway PostgreSQL 15 cluster),
                asked directly; CPU: the node's and PostgreSQL's
  pg-deploy     nginx (the `deploy nginx` configuration) in front of `--pg-nodes` such nodes;
                CPU: nginx's, every node's and PostgreSQL's
  The answers are checked first: the same numberMatched for the first boxes on all three.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.serve import (  # noqa: E402
    LIMIT,
    WRK_SCRIPT,
    Report,
    add_run_arguments,
    bare,
    check_features,
    check_tiles,
    extract,
    group_pids,
    measure,
    medians,
    nginx,
    ours,
    postgres_pids,
    print_heading,
    process,
    random_boxes,
    tile_list,
    work_folder,
    write_paths,
)
from support.nginx import local_options, nginx_command, nginx_files  # noqa: E402
from support.ports import free_port  # noqa: E402

FEATURE_LAYER = "dltb"
SERVERS = ("uvicorn", "granian")
# The http-level settings of bench/serve.py's static nginx, given to the cache row's nginx too.
NGINX_HTTP = """
sendfile on;
tcp_nopush on;
keepalive_requests 1000000;
open_file_cache max=20000 inactive=60s;
"""


# -- nodes and nginx ----------------------------------------------------------------------------


def node_folder(source: Path, release_id: str, folder: Path) -> Path:
    """A node's tiles folder: `releases/<id>` linked to the built release, `current` → it. What
    the node writes (its data folder) stays in it; the built folder is never written to."""
    out = folder / "tiles"
    (out / "releases").mkdir(parents=True)
    (out / "releases" / release_id).symlink_to(source)
    os.symlink(f"releases/{release_id}", out / "current")
    return out


@contextmanager
def node(
    tiles: Path, log: Path, server: str | None = None, source: Path = REPO
) -> Iterator[tuple[str, Callable[[], list[int]]]]:
    """`serve` (1 worker) of the checkout `source` on `tiles`, its data folder beside its log:
    its base URL and pids."""
    port, server_cm = ours(
        tiles,
        1,
        log,
        settings_env={"PUBLISH_DATA_DIR": str(log.with_suffix(".data"))},
        server=server,
        source=source,
    )
    with server_cm as proc:
        yield f"http://127.0.0.1:{port}", lambda: group_pids(proc.pid)


@contextmanager
def nginx_deploy(
    prefix: Path, nodes: Sequence[str], workers: int
) -> Iterator[tuple[str, Callable[[], list[int]]]]:
    """nginx on the `deploy nginx` configuration in front of `nodes` (HOST:PORT): its base URL
    and its pids (master and workers)."""
    port = free_port()
    conf = nginx_files(
        prefix, local_options(prefix, tuple(nodes), port), workers=workers, connections=4096,
        http_extra=NGINX_HTTP,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    argv = nginx_command(prefix, conf, "-g", "daemon off;")
    with process(argv, ready=f"{base}/healthz", log=prefix / "stdout.log") as proc:
        yield base, lambda: group_pids(proc.pid)


ORIGIN = "https://bench.example"  # the cache row's Origin header (it sends it to the cache)


def fill_cache(base: str, paths: Sequence[str], probes: Sequence[str], origin: str = "") -> None:
    """Ask nginx for every path once (MISS → kept), then check the probes come back from
    nginx's copy: STORED (the tile store), or HIT with an Origin (the cache)."""
    import httpx

    headers = {"Accept-Encoding": "gzip"} | ({"Origin": origin} if origin else {})
    expected = "HIT" if origin else "STORED"
    with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
        for path in paths:
            r = c.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"nginx: {path} → {r.status_code} {r.text[:200]}")
        for path in probes:
            status = c.get(path).headers.get("x-cache-status")
            if status != expected:
                raise RuntimeError(f"nginx: {path} is not nginx's copy ({status}, not {expected})")


# -- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", required=True, help="a built tiles folder (its current)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="repeat everything; medians")
    parser.add_argument("--tiles-sample", type=int, default=5000)
    parser.add_argument("--boxes", type=int, default=2000)
    parser.add_argument("--pg-nodes", type=int, default=2, help="nodes behind nginx on PostGIS")
    parser.add_argument("--nginx-workers", type=int, default=2)
    parser.add_argument("--only", choices=("cache", "servers", "features"))
    parser.add_argument("--base", type=Path, help="servers: also a checkout from before a change")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"servers: the ASGI servers measured, comma-separated ({', '.join(SERVERS)})",
    )
    add_run_arguments(parser)
    args = parser.parse_args()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not servers or not set(servers) <= set(SERVERS):
        parser.error(f"--servers: choose among {', '.join(SERVERS)}")
    if args.base is not None and not (args.base / "publish" / "__main__.py").is_file():
        parser.error(f"--base: {args.base} is not a checkout of this project")

    tiles_dir = Path(args.tiles).resolve()
    release = (tiles_dir / "current").resolve()
    release_id = release.name
    archive = release / "tiles" / "public.pmtiles"
    gpkg = release / "features" / "public.gpkg"
    report = Report()
    with ExitStack() as stack:
        work = work_folder(stack, args.work, "onemap-bench-deploy-")
        script = write_paths(work / "random.lua", [WRK_SCRIPT])
        rng = random.Random(args.seed)
        print(f"release {release_id}; work in {work}", file=sys.stderr, flush=True)
        parts = [args.only] if args.only else ["cache", "servers", "features"]

        # tiles: a random sample of the archive's own tile list, extracted for the static nginx
        every = tile_list(archive)
        sample = rng.sample(every, min(args.tiles_sample, len(every)))
        xyz = work / "xyz" / "public"
        with archive.open("rb") as f:
            stored = []
            for *_, offset, length in sample[:20]:
                f.seek(offset)
                stored.append(f.read(length))
        paths = {
            "nginx-static": [f"/{z}/{x}/{y}.pbf" for z, x, y, _, _ in sample],
            "nginx-cache": [
                f"/releases/{release_id}/tiles/public/{z}/{x}/{y}.mvt" for z, x, y, _, _ in sample
            ],
            "app": [f"/tiles/public/{z}/{x}/{y}.mvt" for z, x, y, _, _ in sample],
        }
        sizes = [length for *_, length in sample]
        report.notes.append(
            f"{len(sample):,} tiles drawn at random, mean {statistics.mean(sizes) / 1e3:.1f} KB "
            f"stored, zooms {min(t[0] for t in sample)}–{max(t[0] for t in sample)}"
        )
        boxes = random_boxes(gpkg, args.boxes, args.seed)
        paths["features"] = [
            f"/ogc/collections/{FEATURE_LAYER}/items?bbox={b}&limit={LIMIT}&f=json" for b in boxes
        ]
        files = {k: write_paths(work / f"paths-{k}.txt", v) for k, v in paths.items()}

        def run(group: str, name: str, workers: int, base: str, path_key: str, pids: Any) -> None:
            measure(report, group, name, workers, base, files[path_key], args, script, pids)

        if "cache" in parts:
            extract(archive, sample, xyz)
        gpkg_tiles = node_folder(release, release_id, work / "node-gpkg")

        def cache_round() -> None:
            port, static = nginx(xyz, work, args.nginx_workers)
            with static as proc:
                base = f"http://127.0.0.1:{port}"
                check_tiles(base, paths["nginx-static"][:20], stored, "nginx-static", report)
                pids = lambda: group_pids(proc.pid)  # noqa: E731
                run("tiles", "nginx-static", args.nginx_workers, base, "nginx-static", pids)
            with (
                node(gpkg_tiles, work / "cache-node.log") as (node_base, node_pids),
                nginx_deploy(
                    work / f"nginx-cache-{time.monotonic_ns()}",
                    [node_base.removeprefix("http://")],
                    args.nginx_workers,
                ) as (base, nginx_pids),
            ):
                probes = paths["nginx-cache"][:20]
                fill_cache(base, paths["nginx-cache"], probes)
                check_tiles(base, probes, stored, "nginx-store", report)
                pids = lambda: nginx_pids() + node_pids()  # noqa: E731
                run("tiles", "nginx-store", args.nginx_workers, base, "nginx-cache", pids)
                fill_cache(base, paths["nginx-cache"], probes, ORIGIN)
                measure(
                    report, "tiles", "nginx-cache", args.nginx_workers, base,
                    files["nginx-cache"], args, script, pids, origin=ORIGIN,
                )  # fmt: skip

        def servers_round() -> None:
            for server in servers:
                if args.base is not None:
                    log = work / f"base-{server}.log"
                    with node(gpkg_tiles, log, server, args.base.resolve()) as (base, pids):
                        check_tiles(base, paths["app"][:20], stored, f"base-{server}", report)
                        run("tiles", f"base-{server}", 1, base, "app", pids)
                with node(gpkg_tiles, work / f"ours-{server}.log", server) as (base, pids):
                    check_tiles(base, paths["app"][:20], stored, f"ours-{server}", report)
                    run("tiles", f"ours-{server}", 1, base, "app", pids)
                log = work / f"raw-{server}.log"
                port, floor = bare(archive, log, paths["app"][0], "raw", 1, server)
                with floor as proc:
                    base = f"http://127.0.0.1:{port}"
                    check_tiles(base, paths["app"][:20], stored, f"raw-{server}", report)
                    pids = lambda: group_pids(proc.pid)  # noqa: E731
                    run("tiles", f"raw-{server}", 1, base, "app", pids)

        pg: dict[str, Any] = {}

        def pg_tiles() -> tuple[Path, int]:
            """The release published on PostGIS in a tiles folder of its own (made once)."""
            if not pg:
                from publish.release.postgis import publish_on_postgis
                from support.postgis import postgis_cluster

                db = stack.enter_context(postgis_cluster("bench", ("shared_buffers=512MB",)))
                folder = node_folder(release, release_id, work / "node-pg")
                started = time.monotonic()
                publish_on_postgis(folder, db)
                report.notes.append(
                    f"the release published on PostGIS (publish.release.postgis) in "
                    f"{time.monotonic() - started:.0f} s"
                )
                pg.update(tiles=folder, port=int(db.port))
            return pg["tiles"], pg["port"]

        def features_round() -> None:
            probes = paths["features"][:30]
            with node(gpkg_tiles, work / "gpkg-node.log") as (base, pids):
                want = check_features(base, probes, "gpkg-node")
                run("features", "gpkg-node", 1, base, "features", pids)
            folder, pg_port = pg_tiles()
            with ExitStack() as nodes:
                started = [
                    nodes.enter_context(node(folder, work / f"pg-node-{i}.log"))
                    for i in range(args.pg_nodes)
                ]

                def pg_pids(*groups: Callable[[], list[int]]) -> Callable[[], list[int]]:
                    return lambda: [p for g in groups for p in g()] + postgres_pids(pg_port)

                base, first = started[0]
                if check_features(base, probes, "pg-node") != want:
                    raise RuntimeError("pg-node: numberMatched differs from the GeoPackage node's")
                run("features", "pg-node", 1, base, "features", pg_pids(first))
                addresses = [b.removeprefix("http://") for b, _ in started]
                prefix = work / f"nginx-pg-{time.monotonic_ns()}"
                with nginx_deploy(prefix, addresses, args.nginx_workers) as (base, nginx_pids):
                    if check_features(base, probes, "pg-deploy") != want:
                        raise RuntimeError("pg-deploy: numberMatched differs from gpkg-node's")
                    groups = [nginx_pids, *(p for _, p in started)]
                    run("features", "pg-deploy", args.pg_nodes, base, "features", pg_pids(*groups))

        rounds = {"cache": cache_round, "servers": servers_round, "features": features_round}
        for i in range(args.rounds):
            print(f"round {i + 1} of {args.rounds}", file=sys.stderr, flush=True)
            for part in parts:
                rounds[part]()

    print_report(report, args)
    return 0


def print_report(report: Report, args: argparse.Namespace) -> None:
    print_heading(": 1.0 or more is not a quiet run")
    titles = {
        "tiles": "Tiles (wrk -t2 -c64)",
        "features": "Features, bbox (wrk -t2 -c16)",
    }
    for group, title in titles.items():
        if not any(r.group == group for r in report.runs):
            continue
        print(f"**{title}**, medians of {args.rounds} round(s), {args.duration} s each:\n")
        print(
            "| row | processes | req/s | answers | p50 ms | p99 ms | CPU µs/req | errors"
            " | load before (all rounds) |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for m, loads in medians(report, group):
            print(
                f"| {m.server} | {m.workers} | {m.rps:,.0f} | {m.requests:,} | {m.p50_ms:.2f} |"
                f" {m.p99_ms:.2f} | {m.cpu_us:,.1f} | {m.errors} | {loads} |"
            )
        print()
    # (what, group, row, against, aim): row's CPU and req/s against `against`'s
    ratios = [
        (
            "nginx store ÷ static",
            "tiles",
            "nginx-store",
            "nginx-static",
            "CPU ≤ 1.11×, req/s ≥ 0.9×",
        ),
        ("nginx cache ÷ static", "tiles", "nginx-cache", "nginx-static", ""),
        ("ours ÷ bare ASGI, uvicorn", "tiles", "ours-uvicorn", "raw-uvicorn", "CPU ≤ 1.4×"),
        ("ours ÷ bare ASGI, granian", "tiles", "ours-granian", "raw-granian", "CPU ≤ 1.4×"),
        ("ours, granian ÷ uvicorn", "tiles", "ours-granian", "ours-uvicorn", ""),
        ("ours ÷ base (--base), uvicorn", "tiles", "ours-uvicorn", "base-uvicorn", ""),
        ("ours ÷ base (--base), granian", "tiles", "ours-granian", "base-granian", ""),
        ("PostGIS deployment ÷ GeoPackage node", "features", "pg-deploy", "gpkg-node", ""),
        ("PostGIS node ÷ GeoPackage node", "features", "pg-node", "gpkg-node", ""),
    ]
    print("| comparison | group | CPU a request, row ÷ other | req/s, row ÷ other | aim |")
    print("|---|---|---|---|---|")
    for what, group, row, other, aim in ratios:
        a = next((report.median(group, s, w) for s, w in _keys(report, group, row)), None)
        b = next((report.median(group, s, w) for s, w in _keys(report, group, other)), None)
        if a is None or b is None or b.rps == 0 or b.cpu_us == 0:
            continue
        print(f"| {what} | {group} | {a.cpu_us / b.cpu_us:.2f}× | {a.rps / b.rps:.2f}× | {aim} |")
    print()
    for note in report.notes:
        print(f"- {note}")


def _keys(report: Report, group: str, server: str) -> list[tuple[str, int]]:
    return sorted(
        {(r.server, r.workers) for r in report.runs if (r.group, r.server) == (group, server)}
    )


if __name__ == "__main__":
    raise SystemExit(main())
