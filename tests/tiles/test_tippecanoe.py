"""Tests for publish.tiles.tippecanoe: the command, and a run that shows its options at work."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from publish.errors import BuildError
from publish.tiles.check import count_features_at_zoom
from publish.tiles.inputs import LayerInput, write_layer
from publish.tiles.job import run_tippecanoe
from publish.tiles.tippecanoe import tile_command
from tests.tiles.frames import batches, parcels


def test_tile_command(tmp_path: Path) -> None:
    a = LayerInput("land_use", tmp_path / "a.geojsonl", 8, 14, "polygon", 10, "用地")
    b = LayerInput("roads", tmp_path / "b.geojsonl", 10, 13, "line", 5)
    cmd = tile_command([a, b], tmp_path / "o.pmtiles", "一张图", attribution="规划局")
    assert Path(cmd[0]).name == "tippecanoe"
    assert f"--output={tmp_path / 'o.pmtiles'}" in cmd
    assert "--minimum-zoom=8" in cmd and "--maximum-zoom=14" in cmd
    assert "--read-parallel" in cmd and "--drop-densest-as-needed" in cmd
    assert "--extend-zooms-if-still-dropping" not in cmd  # would change the maxzoom
    assert "--name=一张图" in cmd and "--attribution=规划局" in cmd
    layers = [json.loads(c.split("=", 1)[1]) for c in cmd if c.startswith("--named-layer=")]
    assert layers == [
        {"file": str(a.path), "layer": "land_use", "description": "用地"},
        {"file": str(b.path), "layer": "roads"},
    ]
    with pytest.raises(BuildError, match="duplicate"):
        tile_command([a, a], tmp_path / "o.pmtiles", "x")
    # the top zoom exact, unless the run is a low-zoom one: every zoom at extent 1024 then
    assert "--simplify-only-low-zooms" in cmd and "--low-detail=10" not in cmd
    assert "--base-zoom=13" in cmd  # the lowest check zoom: every point kept from there
    overview = tile_command([a], tmp_path / "o.pmtiles", "x", low_zoom_detail=10, base_zoom=14)
    assert "--base-zoom=14" in overview  # the same points as the whole range in one run
    assert "--full-detail=10" in overview and "--low-detail=10" in overview
    assert "--simplify-only-low-zooms" not in overview
    assert "--no-tiny-polygon-reduction-at-maximum-zoom" not in overview


def test_dense_layer_keeps_every_feature_at_maxzoom(tmp_path: Path) -> None:
    """50,000 ~5 m squares packed into ~1 km²: tippecanoe thins the low zooms
    (--drop-densest-as-needed) but must keep every feature at maxzoom."""
    n_side, cell = 224, 0.00005
    gdf = parcels(n_side, n_side, cell).iloc[:50_000]
    t0 = time.perf_counter()
    layer = write_layer(
        batches(gdf, 10_000),
        tmp_path / "dense.geojsonl",
        "dense",
        ["DLBM", "MJ"],
        minzoom=10,
        maxzoom=14,
        geometry="polygon",
    )
    t1 = time.perf_counter()
    out = tmp_path / "dense.pmtiles"
    run_tippecanoe([layer], out, "dense")  # raises if any feature is missing at z14
    t2 = time.perf_counter()
    assert count_features_at_zoom(out, "dense", 14) == 50_000
    assert count_features_at_zoom(out, "dense", 10) < 50_000  # low zooms were thinned
    print(f"50k polygons: write {t1 - t0:.2f}s, tippecanoe+checks {t2 - t1:.2f}s")
