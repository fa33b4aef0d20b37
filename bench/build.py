"""The whole build against raw tippecanoe on the same prepared input, side by side.

    .venv/bin/python bench/build.py [--sample /tmp/bench-sample] [--parcels 1000000] [--rounds 1]

Each round: (1) a full build of the sample into a fresh tiles folder (reading, checks, feature
store, per-layer tippecanoe runs, joins, indicators, release), in a child process, keeping each
layer's tippecanoe input; (2) one raw tippecanoe run over those same inputs, all layers at once,
with the build's own options. Wall times, their ratio and the peak memory (RSS summed over the
build's process tree, sampled every 0.1 s) are printed as Markdown rows for BENCHMARKS.md.

Then the share of the analysis (issue 14: "indicators and conflicts add at most 10 % to the full
build"): the stage rows of each round's build, read from its release's log (manifest.json `log`,
"<stage>: done in N s"), for the plan areas (`indicators`), the indicator model (`monitoring`),
the conflicts and the conflicts layer's tiling (started in the background, then waited for), and
their sum as a share of the build's wall time. The model's coverage test runs in a thread while
the other layers are read; its own seconds and the wait for it are printed beside.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BUILD = """
import sys
from pathlib import Path
from publish.pipeline.build import BuildOptions, build
build(BuildOptions(catalog=Path(sys.argv[1]), out=Path(sys.argv[2]), keep_inputs=True))
"""


def _tree_rss(root: int) -> int:
    """RSS in bytes of `root` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * 4096
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak tree RSS of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {err.decode()[-3000:]}")
    return seconds, peak


# the stages the analysis adds to a build (the plan areas, the model, the conflicts, their tiles)
ANALYSIS = re.compile(
    r"^(indicators|monitoring|conflicts) \(\w+\)$|^(start tiling|tile) the conflicts layer$"
)
DONE = re.compile(r"^\s*[\d.]+s (.+): done in ([\d.]+) s$")
COVERAGE = re.compile(r"coverage test of \w+: .*")


def analysis_rows(tiles: Path) -> tuple[list[tuple[str, float]], list[str]]:
    """The analysis stages of the current release's build and their seconds, and the log's
    coverage-test lines."""
    log = json.loads((tiles / "current" / "manifest.json").read_text("utf-8"))["log"]
    rows, notes = [], []
    for line in log:
        done = DONE.match(line)
        if done and ANALYSIS.match(done.group(1)):
            rows.append((done.group(1), float(done.group(2))))
        elif found := COVERAGE.search(line):
            notes.append(found.group(0))
    return rows, notes


def raw_tippecanoe_command(catalog_path: Path, tiles: Path, out: Path) -> list[str]:
    from publish.catalog import load_catalog
    from publish.pipeline.layer import OVERVIEW_SEQ, SEQ
    from publish.tiles.inputs import LayerInput
    from publish.tiles.tippecanoe import tile_command

    catalog = load_catalog(catalog_path)
    top = max(s.maxzoom for s in catalog.layers)
    inputs = []
    for spec in catalog.layers:
        (path,) = (tiles / "cache" / "layers" / spec.id).glob(f"*/{SEQ}")
        if path.with_name(OVERVIEW_SEQ).is_file():  # the overview too, in the same one input
            joined = out.parent / f"{spec.id}.{SEQ}"
            with open(joined, "wb") as f:
                for part in (path, path.with_name(OVERVIEW_SEQ)):
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, f)
            path = joined
        with open(path, "rb") as f:
            count = sum(1 for _ in f)
        inputs.append(
            LayerInput(spec.id, path, spec.minzoom, top, spec.geometry, count, None, spec.maxzoom)
        )
    return tile_command(inputs, out, "raw", temporary_directory=out.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", default="/tmp/bench-sample")
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--work", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument(
        "--stages",
        metavar="TILES",
        help="only print the analysis rows of the build that made TILES/current "
        "(its wall time from the manifest's created and finished)",
    )
    args = parser.parse_args()
    if args.stages:
        print_shares([(1, *_built(Path(args.stages)))])
        return
    sample = Path(args.sample)
    if not (sample / "layers.yml").is_file():
        subprocess.run(
            [sys.executable, "-m", "publish", "sample", "--out", str(sample),
             "--parcels", str(args.parcels)],
            cwd=REPO, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-build-"))
    rows = []
    shares: list[tuple[int, float, list[tuple[str, float]], list[str]]] = []
    for round_no in range(1, args.rounds + 1):
        tiles = work / f"tiles-{round_no}"
        shutil.rmtree(tiles, ignore_errors=True)
        build_cmd = [sys.executable, "-c", BUILD, str(sample / "layers.yml"), str(tiles)]
        build_s, build_rss = run_measured(build_cmd)
        raw_out = work / f"raw-{round_no}.pmtiles"
        raw_out.unlink(missing_ok=True)
        raw_s, raw_rss = run_measured(raw_tippecanoe_command(sample / "layers.yml", tiles, raw_out))
        rows.append((round_no, build_s, build_rss, raw_s, raw_rss))
        shares.append((round_no, build_s, *analysis_rows(tiles)))
        shutil.rmtree(tiles, ignore_errors=True)
        raw_out.unlink(missing_ok=True)
    print("| round | whole build (s) | build peak RSS (MiB) | raw tippecanoe (s) | "
          "tippecanoe peak RSS (MiB) | build / raw |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for round_no, build_s, build_rss, raw_s, raw_rss in rows:
        print(
            f"| {round_no} | {build_s:.1f} | {build_rss / 2**20:.0f} | {raw_s:.1f} | "
            f"{raw_rss / 2**20:.0f} | {build_s / raw_s:.2f}× |"
        )
    print()
    print_shares(shares)


def _built(tiles: Path) -> tuple[float, list[tuple[str, float]], list[str]]:
    """The wall time (created → finished, to the second) and analysis rows of TILES/current."""
    from datetime import datetime

    manifest = json.loads((tiles / "current" / "manifest.json").read_text("utf-8"))
    seconds = (
        datetime.fromisoformat(manifest["finished"]) - datetime.fromisoformat(manifest["created"])
    ).total_seconds()
    return (seconds, *analysis_rows(tiles))


def print_shares(shares: list[tuple[int, float, list[tuple[str, float]], list[str]]]) -> None:
    print("| round | stage | seconds | share of the build |")
    print("|---|---|---:|---:|")
    for round_no, build_s, stages, notes in shares:
        for stage, seconds in stages:
            print(f"| {round_no} | {stage} | {seconds:.1f} | {seconds / build_s:.1%} |")
        total = sum(seconds for _, seconds in stages)
        print(f"| {round_no} | **analysis in all** | {total:.1f} | **{total / build_s:.1%}** |")
        for note in notes:
            print(f"| {round_no} | ({note}) | | |")


if __name__ == "__main__":
    main()
