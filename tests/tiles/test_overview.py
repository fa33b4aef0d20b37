"""Low-zoom overviews (publish.tiles.overview): the dense layers dissolved per code below the
detail zoom (at a coarser tile extent), every feature as it is from there, in the same tile
layer."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

from publish.catalog import load_catalog
from publish.tiles.archive import Archive
from publish.tiles.check import count_features_at_zoom
from publish.tiles.mvt import decode_tile
from publish.tiles.overview import OVERVIEWS, dissolve, overview_for
from publish.tiles.tippecanoe import LOW_ZOOMS_BELOW
from tests.tiles.frames import parcels

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult


def test_dissolve_merges_same_code_neighbours_and_keeps_only_the_code() -> None:
    frame = parcels(10, 6)  # 60 squares in a chessboard of two codes, sharing corners only
    merged = dissolve(frame, "DLBM")
    assert list(merged.columns) == ["DLBM", "geometry"]
    assert sorted(merged["DLBM"]) == ["0101", "0702"]
    for code, geom in zip(merged["DLBM"], merged.geometry, strict=True):
        same = frame[frame["DLBM"] == code].geometry
        assert abs(geom.area - shapely.area(same.to_numpy()).sum()) < 1e-12
        assert shapely.equals(geom, shapely.union_all(same.to_numpy()))
    whole = dissolve(frame, None)
    assert list(whole.columns) == ["geometry"] and len(whole) == 1
    assert abs(whole.geometry[0].area - shapely.area(frame.geometry.to_numpy()).sum()) < 1e-12
    # a feature without a code is a group of its own, not merged into a coded one
    frame.loc[0, "DLBM"] = None
    assert len(dissolve(frame, "DLBM")) == 3


def test_the_table_names_the_roles_and_respects_the_catalog(sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    chosen = {s.id: overview_for(s) for s in catalog.layers}
    assert {lid for lid, o in chosen.items() if o} == {"ghfq", "ydyh", "yjjbnt"}
    assert set(OVERVIEWS) == {"planning_zone", "land_use", "farmland"}
    ydyh = catalog.layer("ydyh")
    assert overview_for(replace(ydyh, minzoom=12)) is None  # the catalog starts at the detail
    assert overview_for(replace(ydyh, fields=("BSM",))) is None  # no code in the tiles


def _features(archive: Path, layer: str, z: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with Archive(archive) as a:
        for tz, _x, _y, data in a.iter_tiles():
            if tz == z:
                out += decode_tile(data, a.tile_compression).get(layer, {}).get("features", [])
    return out


def _extents(archive: Path, layer: str, z: int) -> set[int]:
    with Archive(archive) as a:
        tiles = [decode_tile(d, a.tile_compression) for tz, _x, _y, d in a.iter_tiles() if tz == z]
    return {t[layer]["extent"] for t in tiles if layer in t}


def test_the_release_tiles_overviews_below_the_detail_zoom(full_release: BuildResult) -> None:
    manifest = json.loads((full_release.path / "manifest.json").read_text("utf-8"))
    archive = full_release.path / manifest["audiences"]["public"]["tiles"]["path"]
    detail = OVERVIEWS["land_use"].detail_zoom
    count = manifest["layers"]["ydyh"]["features"]
    below = _features(archive, "ydyh", detail - 1)
    assert below and not any(f.get("id") for f in below)  # no id: decoded as 0
    assert {k for f in below for k in f["properties"]} == {"YDYHFLDM"}
    codes = defaultdict(int)
    for f in below:
        codes[f["properties"]["YDYHFLDM"]] += 1
    # at most one feature per code and tile: far fewer than the blocks
    assert len(below) < count / 4
    at = _features(archive, "ydyh", detail)
    assert all(f.get("id") for f in at)
    assert {"BSM", "YDYHFLDM", "YDYHFLMC", "MJ"} <= {k for f in at for k in f["properties"]}
    assert set(codes) == {f["properties"]["YDYHFLDM"] for f in at}
    farmland = _features(archive, "yjjbnt", 8)
    assert farmland and all(f["properties"] == {} and not f.get("id") for f in farmland)
    # the catalog maxzoom still holds every feature (the build checked it; so do we)
    for layer in ("ydyh", "yjjbnt", "ghfq"):
        spec = load_catalog(full_release.path / "catalog.yml").layer(layer)
        features = manifest["layers"][layer]["features"]
        assert count_features_at_zoom(archive, layer, spec.maxzoom) == features
    # the overview at extent 1024 (its own tippecanoe run), the detail at the full 4096
    for layer in ("ydyh", "yjjbnt", "ghfq"):
        assert _extents(archive, layer, detail - 1) == {1024}
        assert _extents(archive, layer, detail) == {4096}
    # current land use keeps its features at every zoom it has
    assert all(f.get("id") for f in _features(archive, "dltb", 10))


def test_every_layer_is_coarser_below_zoom_12_and_exact_from_there(
    full_release: BuildResult,
) -> None:
    """Not only the overviews: every layer's zooms below LOW_ZOOMS_BELOW are tiled at extent
    1024, its features (with their ids) still there; from there up, 4096 and every feature at
    the catalog maxzoom."""
    manifest = json.loads((full_release.path / "manifest.json").read_text("utf-8"))
    archive = full_release.path / manifest["audiences"]["public"]["tiles"]["path"]
    catalog = load_catalog(full_release.path / "catalog.yml")
    for layer in ("stbhhx", "xzq_xiang", "czkfbj"):  # no overview: their own features below
        spec = catalog.layer(layer)
        assert spec.minzoom < LOW_ZOOMS_BELOW <= spec.maxzoom
        assert _extents(archive, layer, LOW_ZOOMS_BELOW - 1) == {1024}
        assert _extents(archive, layer, 8) == {1024}
        assert _extents(archive, layer, LOW_ZOOMS_BELOW) == {4096}
        assert _extents(archive, layer, spec.maxzoom) == {4096}
        features = manifest["layers"][layer]["features"]
        assert count_features_at_zoom(archive, layer, spec.maxzoom) == features
        assert all(f.get("id") for f in _features(archive, layer, 8))
