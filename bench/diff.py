"""The release diff against a bare computation of the same result, side by side.

    .venv/bin/python bench/diff.py --old TILES/releases/A --new TILES/releases/B [--rounds 3]

Each round, in child processes: (1) the diff as the build and `release diff` make it
(publish.history: both audiences, the JSON document and the HTML page written to a scratch
folder), timed from the call, not the interpreter's start ("of which compared": until the
diffs are computed, before the files are written; it reads the releases' row hashes when they
have them: publish.features.rowhashes); (2) the bare computation on the
layers whose fingerprints differ (the ones the diff reads): each layer's BSM and geometry first
loaded into memory in the city's working CRS (timed apart: "load"), then pandas merge on BSM,
shapely ``equals_exact`` on the matched pairs and ``symmetric_difference`` area on the pairs
that differ (polygons). Prints Markdown rows for BENCHMARKS.md: wall seconds, peak RSS (the
child's ru_maxrss) and the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

OURS = """
import json, resource, sys, time
from pathlib import Path
from publish.history.diff import compare_releases
from publish.history.report import write_diff
start = time.perf_counter()
diffs = compare_releases(Path(sys.argv[1]), Path(sys.argv[2]))
compared = time.perf_counter() - start
for audience, diff in diffs.items():
    write_diff(diff, Path(sys.argv[3]) / audience)
seconds = time.perf_counter() - start
changes = sum(len(layer.changes) for layer in diffs["internal"].layers)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "compared": compared, "rss": rss, "changes": changes}))
"""

BARE = """
import json, resource, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pyogrio, shapely
from publish.release.manifest import read_manifest
old, new = Path(sys.argv[1]), Path(sys.argv[2])
mo, mn = read_manifest(old), read_manifest(new)
crs = mn["crs"]
layers = [
    lid for lid, entry in mn["layers"].items()
    if lid in mo["layers"] and mo["layers"][lid]["fingerprint"] != entry["fingerprint"]
]
start = time.perf_counter()
tables = {}
for lid in layers:
    sides = []
    for root in (old, new):
        frame = pyogrio.read_dataframe(
            root / "features" / "internal.gpkg", layer=lid, columns=["BSM"]
        ).to_crs(crs)
        sides.append(pd.DataFrame({"BSM": frame["BSM"], "g": frame.geometry.array}))
    tables[lid] = (sides, mn["layers"][lid]["geometry"] == "polygon")
load = time.perf_counter() - start
start = time.perf_counter()
differing = 0
for lid, ((a, b), polygons) in tables.items():
    merged = pd.merge(a, b, on="BSM", how="outer", suffixes=("_o", "_n"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    o = np.asarray(both["g_o"], dtype=object)
    n = np.asarray(both["g_n"], dtype=object)
    differ = ~shapely.equals_exact(o, n, tolerance=0)
    differing += int(differ.sum())
    if polygons:
        shapely.area(shapely.symmetric_difference(o[differ], n[differ]))
compute = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"load": load, "compute": compute, "rss": rss, "layers": layers,
                  "differing": differing}))
"""


def _child(script: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"child failed ({result.returncode}): {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", required=True, help="the old release folder")
    parser.add_argument("--new", required=True, help="the new release folder")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        "| round | diff (s) | of which compared (s) | diff peak RSS (MiB) | bare compute (s) "
        "| bare load (s) | bare peak RSS (MiB) | compared / bare compute | diff / bare compute "
        "| diff / (bare load + compute) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bench-diff-") as scratch:
            ours = _child(OURS, args.old, args.new, scratch)
        bare = _child(BARE, args.old, args.new)
        whole = bare["load"] + bare["compute"]
        print(
            f"| {round_} | {ours['seconds']:.2f} | {ours['compared']:.2f} "
            f"| {ours['rss'] / 2**20:.0f} "
            f"| {bare['compute']:.2f} | {bare['load']:.2f} | {bare['rss'] / 2**20:.0f} "
            f"| {ours['compared'] / bare['compute']:.2f}× "
            f"| {ours['seconds'] / bare['compute']:.2f}× | {ours['seconds'] / whole:.2f}× |"
        )
    print(
        f"\nlayers compared: {', '.join(bare['layers'])}; changed features listed: "
        f"{ours['changes']}; pairs whose geometry differs (bare): {bare['differing']}"
    )


if __name__ == "__main__":
    main()
