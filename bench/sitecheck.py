"""Site-check latency against a bare shapely STRtree query-and-intersect, in the same run.

    .venv/bin/python bench/sitecheck.py --tiles /tmp/benchrel [--sites 300] [--seed 1]

`--tiles` is a built tiles folder (its `current` release; build the 1,000,000-parcel sample with
`build_tiles.py --catalog /tmp/bench-sample/layers.yml --out /tmp/benchrel`). Random sites inside
the city, half 300 m point buffers and half 1 km squares, go through (1) the site check as the
server runs it (`parse_site` + `check_site` on the public GeoPackage, R-tree candidates, exact
areas, verdict, surroundings) and (2) the bare computation: every polygon layer the check
overlaps already in memory in the city's working CRS with a shapely STRtree each, query +
intersection areas only (loading excluded). Prints p50/p95 of both and the p95 ratio as Markdown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely.geometry import mapping

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ROLES = ("red_line", "farmland", "urban_boundary", "planning_zone", "land_use", "current_use")


def main() -> None:
    from publish.sitecheck.check import check_site
    from publish.sitecheck.inputs import parse_site, project
    from publish.sitecheck.store import open_site_store

    parser = argparse.ArgumentParser()
    parser.add_argument("--tiles", default="/tmp/benchrel")
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    release = (Path(args.tiles) / "current").resolve()
    gpkg = release / "features" / "public.gpkg"
    store = open_site_store(gpkg, release / "catalog.yml")

    # sites: random points inside the county layer, in the city's working CRS (metres)
    work = store.crs
    admin = store.by_role("admin")
    counties = min(admin, key=lambda s: pyogrio.read_info(gpkg, layer=s.id)["features"])
    city = shapely.union_all(
        pyogrio.read_dataframe(gpkg, layer=counties.id).to_crs(work).geometry.values
    )
    rng = np.random.default_rng(args.seed)
    minx, miny, maxx, maxy = city.bounds
    sites: list[dict] = []
    while len(sites) < args.sites:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not city.contains(shapely.Point(x, y)):
            continue
        if len(sites) % 2 == 0:
            lonlat = project(shapely.Point(x, y), work, "OGC:CRS84")
            sites.append({"geometry": mapping(lonlat), "buffer_m": 300})
        else:
            square = shapely.box(x - 500, y - 500, x + 500, y + 500)
            sites.append({"geometry": mapping(project(square, work, "OGC:CRS84"))})

    # bare: the same layers in memory, one STRtree each
    trees = []
    for spec in store.layers:
        if spec.role in ROLES:
            geoms = pyogrio.read_dataframe(gpkg, layer=spec.id).to_crs(work).geometry.values
            trees.append((shapely.STRtree(geoms), geoms))
    parsed = [parse_site(s, work_crs=work) for s in sites]
    check_site(store, parsed[0])  # warm-up (first call opens files, builds transformers)

    ours, bare = [], []
    for raw, site in zip(sites, parsed, strict=True):
        t0 = time.perf_counter()
        check_site(store, parse_site(raw, work_crs=work))
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        geometry = site.geometry
        for tree, geoms in trees:
            hits = tree.query(geometry, predicate="intersects")
            float(shapely.area(shapely.intersection(geoms[hits], geometry)).sum())
        bare.append(time.perf_counter() - t0)
    ours_ms, bare_ms = np.array(ours) * 1e3, np.array(bare) * 1e3
    print(f"{args.sites} sites on {release.name} ({gpkg})")
    print("| | p50 (ms) | p95 (ms) |")
    print("|---|---|---|")
    print(f"| site check (parse + check_site) | {np.percentile(ours_ms, 50):.1f} | "
          f"{np.percentile(ours_ms, 95):.1f} |")  # fmt: skip
    print(f"| bare STRtree query + intersect | {np.percentile(bare_ms, 50):.1f} | "
          f"{np.percentile(bare_ms, 95):.1f} |")  # fmt: skip
    ratio = np.percentile(ours_ms, 95) / np.percentile(bare_ms, 95)
    print(f"| p95 ratio | | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
