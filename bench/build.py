"""The whole build against raw tippecanoe on the same prepared input, side by side.

    .venv/bin/python bench/build.py [--sample /tmp/bench-sample] [--parcels 1000000] [--rounds 1]

Each round: (1) a full build of the sample into a fresh tiles folder (reading, checks, feature
store, per-layer tippecanoe runs, joins, indicators, release), in a child process, keeping each
layer's tippecanoe input; (2) one raw tippecanoe run over those same inputs, all layers at once,
with the build's own options. Wall times, their ratio and the peak memory (RSS summed over the
build's process tree, sampled every 0.1 s) are printed as Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
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


def raw_tippecanoe_command(catalog_path: Path, tiles: Path, out: Path) -> list[str]:
    from publish.catalog import load_catalog
    from publish.pipeline.layer import SEQ
    from publish.tiles.inputs import LayerInput
    from publish.tiles.tippecanoe import tile_command

    catalog = load_catalog(catalog_path)
    top = max(s.maxzoom for s in catalog.layers)
    inputs = []
    for spec in catalog.layers:
        (path,) = (tiles / "cache" / "layers" / spec.id).glob(f"*/{SEQ}")
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
    args = parser.parse_args()
    sample = Path(args.sample)
    if not (sample / "layers.yml").is_file():
        subprocess.run(
            [sys.executable, "-m", "publish", "sample", "--out", str(sample),
             "--parcels", str(args.parcels)],
            cwd=REPO, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-build-"))
    rows = []
    for round_no in range(1, args.rounds + 1):
        tiles = work / f"tiles-{round_no}"
        shutil.rmtree(tiles, ignore_errors=True)
        build_cmd = [sys.executable, "-c", BUILD, str(sample / "layers.yml"), str(tiles)]
        build_s, build_rss = run_measured(build_cmd)
        raw_out = work / f"raw-{round_no}.pmtiles"
        raw_out.unlink(missing_ok=True)
        raw_s, raw_rss = run_measured(raw_tippecanoe_command(sample / "layers.yml", tiles, raw_out))
        rows.append((round_no, build_s, build_rss, raw_s, raw_rss))
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


if __name__ == "__main__":
    main()
