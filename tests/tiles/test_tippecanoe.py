"""Tests for publish.tiles.tippecanoe: real tippecanoe runs on small generated layers."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify
from publish.tiles.mvt import feature_ids
from publish.tiles.tippecanoe import (
    LayerInput,
    count_features_at_zoom,
    feature_ids_at_zoom,
    run_tippecanoe,
    tile_command,
    write_geojsonseq,
    write_layer,
)
from tests.mvt import decoded_tiles, metres, tile_to_lonlat

LON0, LAT0 = 110.48, 29.13  # near Zhangjiajie
CELL = 0.001  # ~100 m
NAMES = ["天门山国家森林公园", "张家界市人民政府", "永定区·大庸古城", "澧水大桥（北）"]


# -- data ----------------------------------------------------------------------------------------


def parcels(nx: int = 20, ny: int = 15, cell: float = CELL) -> gpd.GeoDataFrame:
    """nx*ny adjacent squares (shared edges), with a code, an area, a NaN and an unwanted column."""
    i = np.arange(nx * ny)
    x0 = LON0 + (i % nx) * cell
    y0 = LAT0 + (i // nx) * cell
    return gpd.GeoDataFrame(
        {
            "DLBM": np.where(i % 2 == 0, "0101", "0702"),
            "DLMC": np.where(i % 2 == 0, "水田", "城镇住宅用地"),
            "MJ": np.float64(cell * 1e5) ** 2 + i.astype(np.float64),
            "GHYT": np.where(i % 7 == 0, np.nan, 1.0),  # NaN → attribute omitted
            "SECRET": "do not publish",
        },
        geometry=shapely.box(x0, y0, x0 + cell, y0 + cell),
        crs=4326,
    )


def roads() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(LON0, LAT0 + k * 0.003), (LON0 + 0.02, LAT0 + k * 0.003 + 0.001)])
        for k in range(5)
    ]
    return gpd.GeoDataFrame(
        {"DLDJ": np.arange(5, dtype=np.int32), "NAME": [f"道路{k}" for k in range(5)]},
        geometry=lines,
        crs=4326,
    )


def places() -> gpd.GeoDataFrame:
    pts = [shapely.Point(LON0 + 0.0013 + k * 0.0031, LAT0 + 0.0007 + k * 0.0023) for k in range(4)]
    return gpd.GeoDataFrame(
        {"NAME": NAMES, "RANK": np.arange(4, dtype=np.int64), "X": 0}, geometry=pts, crs=4326
    )


def batches(gdf: gpd.GeoDataFrame, size: int) -> list[gpd.GeoDataFrame]:
    return [gdf.iloc[k : k + size] for k in range(0, len(gdf), size)]


# -- write_geojsonseq ----------------------------------------------------------------------------


def test_write_geojsonseq_lines_ids_properties(tmp_path: Path) -> None:
    gdf = parcels(4, 3)
    gdf.loc[5, "geometry"] = None  # skipped, but keeps its row number
    gdf.loc[6, "geometry"] = shapely.Polygon()
    out = tmp_path / "p.geojsonl"
    n = write_geojsonseq(batches(gdf, 5), out, ["DLMC", "MJ", "GHYT"], minzoom=3, maxzoom=9)
    assert n == 10
    text = out.read_text(encoding="utf-8")
    assert "水田" in text and "\\u" not in text  # UTF-8, not escaped
    feats = [json.loads(line) for line in text.splitlines()]
    assert len(feats) == 10
    assert [f["id"] for f in feats] == [1, 2, 3, 4, 5, 8, 9, 10, 11, 12]
    for f in feats:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == "Polygon"
        assert set(f["properties"]) <= {"DLMC", "MJ", "GHYT"}
        assert isinstance(f["properties"]["MJ"], float)
        assert f["tippecanoe"] == {"minzoom": 3, "maxzoom": 9}
    assert feats[0]["properties"]["GHYT"] is None  # NaN → null


def test_write_geojsonseq_id_field_and_errors(tmp_path: Path) -> None:
    gdf = places()
    gdf["BSM"] = np.array([40, 30, 20, 10], dtype=np.int64)
    out = tmp_path / "pts.geojsonl"
    assert write_geojsonseq([gdf], out, ["NAME"], id_field="BSM") == 4
    feats = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [f["id"] for f in feats] == [40, 30, 20, 10]
    assert "tippecanoe" not in feats[0]
    assert feats[3]["properties"] == {"NAME": NAMES[3]}

    gdf.loc[1, "BSM"] = 40
    with pytest.raises(BuildError, match="duplicate"):
        write_geojsonseq([gdf], out, ["NAME"], id_field="BSM")
    with pytest.raises(BuildError, match="not columns"):
        write_geojsonseq([gdf], out, ["NOPE"])
    with pytest.raises(BuildError, match="EPSG:4326"):
        write_geojsonseq([gdf.to_crs(3857)], out, ["NAME"])


# -- the command ---------------------------------------------------------------------------------


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


# -- building ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, LayerInput]]:
    d = tmp_path_factory.mktemp("tiles")
    inputs = {
        "land_use": write_layer(
            batches(parcels(), 128),
            d / "land_use.geojsonl",
            "land_use",
            ["DLBM", "DLMC", "MJ", "GHYT"],
            minzoom=8,
            maxzoom=14,
            geometry="polygon",
            description="土地利用现状",
        ),
        "roads": write_layer(
            [roads()], d / "roads.geojsonl", "roads", ["NAME"], minzoom=10, maxzoom=13
        ),
        "places": write_layer(
            [places()], d / "places.geojsonl", "places", ["NAME", "RANK"], minzoom=12, maxzoom=14
        ),
    }
    out = d / "plan.pmtiles"
    run_tippecanoe(list(inputs.values()), out, "规划一张图", attribution="测试")
    return out, inputs


def test_archive_is_sound(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, inputs = built
    assert verify(out) == []
    assert not list(out.parent.glob(".*tmp*"))  # the temporary file was renamed
    with Archive(out) as archive:
        assert (archive.minzoom, archive.maxzoom) == (8, 14)
        meta = archive.metadata()
        assert meta["name"] == "规划一张图"
        assert {la["id"] for la in meta["vector_layers"]} == set(inputs)
        west, south, east, north = archive.bounds
        assert west < LON0 + 0.001 < east and south < LAT0 + 0.001 < north


def test_every_feature_at_maxzoom(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, inputs = built
    for layer in inputs.values():
        ids = feature_ids_at_zoom(out, layer.id, layer.maxzoom)
        assert ids == set(range(1, layer.features + 1)), layer.id
    assert count_features_at_zoom(out, "land_use", 14) == 300
    # per-layer zoom ranges are honoured in the tiles
    assert count_features_at_zoom(out, "roads", 14) == 0
    assert count_features_at_zoom(out, "roads", 9) == 0
    assert count_features_at_zoom(out, "places", 11) == 0


def test_properties_and_text(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, _ = built
    seen_names: set[str] = set()
    for _x, _y, tile in decoded_tiles(out, 14):
        assert set(tile) <= {"land_use", "places"}
        for f in tile.get("land_use", {}).get("features", []):
            props = f["properties"]
            assert set(props) <= {"DLBM", "DLMC", "MJ", "GHYT"}
            assert {"DLBM", "DLMC", "MJ"} <= set(props)
            assert props["DLMC"] in ("水田", "城镇住宅用地")
            if (f["id"] - 1) % 7 == 0:
                assert "GHYT" not in props  # NaN was written as null, MVT drops it
        for f in tile.get("places", {}).get("features", []):
            assert set(f["properties"]) == {"NAME", "RANK"}
            assert f["properties"]["NAME"] == NAMES[f["id"] - 1]
            seen_names.add(f["properties"]["NAME"])
    assert seen_names == set(NAMES)


def test_point_positions(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, _ = built
    src = places()
    checked = 0
    for x, y, tile in decoded_tiles(out, 14):
        layer = tile.get("places")
        if not layer:
            continue
        for f in layer["features"]:
            px, py = f["geometry"]["coordinates"]
            if not (0 <= px < layer["extent"] and 0 <= py < layer["extent"]):
                continue  # a copy in the buffer of a neighbouring tile
            got = tile_to_lonlat(14, x, y, px, py, layer["extent"])
            want = src.geometry.iloc[f["id"] - 1]
            assert metres(got, (want.x, want.y)) < 1.0
            checked += 1
    assert checked == len(src)


def test_unreadable_input_fails(tmp_path: Path) -> None:
    good = write_layer(
        [parcels(5, 5)], tmp_path / "ok.geojsonl", "ok", ["DLBM"], minzoom=10, maxzoom=12
    )
    bad_path = tmp_path / "bad.geojsonl"
    bad_path.write_text('this is not JSON {"type": Feature\n', encoding="utf-8")
    bad = LayerInput("bad", bad_path, 10, 12, "polygon", 3)
    out = tmp_path / "o.pmtiles"
    with pytest.raises(BuildError, match="bad"):
        run_tippecanoe([good, bad], out, "x")
    assert not out.exists()
    assert not list(tmp_path.glob(".*tmp*"))
    with pytest.raises(BuildError):
        run_tippecanoe([bad], out, "x")
    assert not out.exists()


def test_feature_ids_match_full_decode(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, _ = built
    with Archive(out) as archive:
        for _z, _x, _y, data in archive.iter_tiles():
            full = mapbox_vector_tile.decode(gzip.decompress(data))
            fast = feature_ids(data, archive.tile_compression, full.keys())
            assert {k: [f["id"] for f in v["features"]] for k, v in full.items()} == fast


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


def test_too_dense_for_maxzoom_fails(tmp_path: Path) -> None:
    """Features tippecanoe drops at maxzoom (here: polygons below one tile unit) fail the build."""
    gdf = parcels(3, 1)
    gdf.loc[1, "geometry"] = shapely.box(LON0 + 0.0015, LAT0, LON0 + 0.0015001, LAT0 + 0.0000001)
    layer = write_layer([gdf], tmp_path / "s.geojsonl", "s", ["DLBM"], minzoom=12, maxzoom=14)
    with pytest.raises(BuildError, match="2 of its 3 features"):
        run_tippecanoe([layer], tmp_path / "s.pmtiles", "s")
    run_tippecanoe([layer], tmp_path / "s.pmtiles", "s", require_complete=False)
    assert count_features_at_zoom(tmp_path / "s.pmtiles", "s", 14) == 2
