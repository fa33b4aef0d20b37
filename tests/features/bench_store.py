"""Time the feature store at benchmark size: LayerTableWriter, then assemble().

    .venv/bin/python -m tests.features.bench_store [--features 1000000] [--batch 50000]
                                                   [--out /tmp/bench-store]

Writes N small squares (with a BSM, a Chinese class name, a code, an MJ and area_m2, like a
land-use layer) in batches, then assembles the table into one GeoPackage, checks both, and
prints a Markdown table for BENCHMARKS.md. Making the batches is not timed. Not a test (the
file name keeps pytest away); it lives here beside the tests of the code it measures.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from publish.features.store import LayerTableWriter, assemble
from publish.gpkg.schema import gpkg_has_rtree

FIELDS = ("BSM", "YDYHFLDM", "YDYHFLMC", "MJ")


def batch(start: int, size: int) -> gpd.GeoDataFrame:
    i = np.arange(start, start + size)
    x = 109.7 + (i % 1000) * 0.0015
    y = 28.9 + (i // 1000) * 0.0009
    return gpd.GeoDataFrame(
        {
            "fid": i + 1,
            "BSM": [f"430800{k:012d}" for k in i],
            "YDYHFLDM": np.where(i % 2 == 0, "0701", "0101"),
            "YDYHFLMC": np.where(i % 2 == 0, "城镇住宅用地", "水田"),
            "MJ": np.full(size, 7800.5),
            "area_m2": np.full(size, 7800.0),
        },
        geometry=shapely.box(x, y, x + 0.001, y + 0.0008),
        crs="EPSG:4326",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-store"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    layer = args.out / "ydyh.gpkg"

    writer = LayerTableWriter(layer, "ydyh", FIELDS, "polygon")
    appending = 0.0
    for start in range(0, args.features, args.batch):
        frame = batch(start, min(args.batch, args.features - start))
        started = time.perf_counter()
        writer.append(frame)
        appending += time.perf_counter() - started
    started = time.perf_counter()
    info = writer.close()
    closing = time.perf_counter() - started
    assert info.count == args.features and gpkg_has_rtree(layer, "ydyh")

    started = time.perf_counter()
    assemble(args.out / "internal.gpkg", [("ydyh", layer)])
    assembling = time.perf_counter() - started
    assert pyogrio.read_info(args.out / "internal.gpkg", layer="ydyh")["features"] == info.count

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (args.out / "internal.gpkg").stat().st_size / 2**20
    print(f"{args.features:,} polygons in batches of {args.batch:,}; peak RSS {peak:.0f} MiB")
    print("| step | wall time (s) |")
    print("|---|---|")
    print(f"| LayerTableWriter.append x{-(-args.features // args.batch)} | {appending:.1f} |")
    print(f"| LayerTableWriter.close (copy + R-tree) | {closing:.1f} |")
    print(f"| assemble (copy + checks), {size:.0f} MiB | {assembling:.1f} |")


if __name__ == "__main__":
    main()
