"""Tests for publish.tiles.job: real tippecanoe runs on small generated layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify
from publish.tiles.inputs import LayerInput, write_layer
from publish.tiles.job import run_tippecanoe
from tests.mvt import decoded_tiles, metres, tile_to_lonlat
from tests.tiles.frames import LAT0, LON0, NAMES, parcels, places


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
