"""The review report's finding maps: how long drawing them takes for many findings.

    .venv/bin/python bench/review_maps.py --tiles tiles [--per-layer 60] [--layers yjjbnt dltb]

Takes the current release of TILES (its catalog.yml and features/internal.gpkg, whose tables
are the layers' feature tables), makes `--per-layer` invalid_geometry findings on random
features (seed 7) of each of `--layers`, and times publish.review.places.place_findings twice
in one process: cold (the first report) and warm (a second one: each report starts and closes
a renderer of its own, but EGL, glyph ranges and GDAL are warm by then). Only the first
IMAGES_PER_KIND findings of the kind are drawn. Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyogrio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from publish.catalog import load_catalog  # noqa: E402
from publish.checks.findings import Review, make_finding  # noqa: E402
from publish.review.inputs import ReportInputs  # noqa: E402
from publish.review.places import place_findings  # noqa: E402


@dataclass(frozen=True)
class _Table:
    features_path: Path


def _findings(gpkg: Path, layers: list[str], per_layer: int, id_field: dict[str, str]) -> Review:
    rng = np.random.default_rng(7)
    review = Review()
    for layer in layers:
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        picked = frame.iloc[rng.choice(len(frame), size=min(per_layer, len(frame)), replace=False)]
        points = picked.geometry.representative_point()
        for value, point in zip(picked[id_field[layer]], points, strict=True):
            review.add(
                make_finding(
                    "invalid_geometry",
                    layer,
                    f"layer {layer}, feature {value}: bench",
                    f"图层 {layer} 要素 {value}：测试",
                    feature=str(value),
                    lonlat=(round(point.x, 6), round(point.y, 6)),
                )
            )
    return review


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=Path, required=True)
    parser.add_argument("--per-layer", type=int, default=60)
    parser.add_argument("--layers", nargs="+", default=["yjjbnt", "dltb"])
    args = parser.parse_args()
    release = (args.tiles / "current").resolve()
    catalog = load_catalog(release / "catalog.yml")
    gpkg = release / "features" / "internal.gpkg"
    id_field = {spec.id: spec.id_field for spec in catalog.layers}
    review = _findings(gpkg, args.layers, args.per_layer, id_field)
    inputs = ReportInputs(
        catalog=catalog,
        catalog_source=release / "catalog.yml",
        layers={spec.id: _Table(gpkg) for spec in catalog.layers},  # type: ignore[misc]
        when=datetime.now(UTC),
    )
    print("| run | findings | images | seconds | ms per image | KB per image |")
    print("|---|---:|---:|---:|---:|---:|")
    for run in ("cold", "warm"):
        start = time.perf_counter()
        places = place_findings(review, inputs)
        seconds = time.perf_counter() - start
        images = [p.image for p in places if p.image is not None]
        size = sum(len(i) for i in images) / max(len(images), 1) / 1024
        print(
            f"| {run} | {len(places)} | {len(images)} | {seconds:.1f} | "
            f"{1000 * seconds / max(len(images), 1):.0f} | {size:.1f} |"
        )


if __name__ == "__main__":
    main()
