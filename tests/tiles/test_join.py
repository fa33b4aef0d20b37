"""Tests for publish.tiles.join: single-layer archives joined into multi-layer ones."""

from __future__ import annotations

import gzip
from pathlib import Path

import mapbox_vector_tile
import pytest

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify
from publish.tiles.check import count_features_at_zoom
from publish.tiles.inputs import write_layer
from publish.tiles.job import run_tippecanoe
from publish.tiles.join import JoinOutput, join_archives, join_many
from tests.tiles.frames import parcels, places, roads


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("join")
    out = {}
    for name, frame, kind, fields in (
        ("parcels", parcels(), "polygon", ["DLBM", "DLMC"]),
        ("roads", roads(), "line", ["NAME"]),
        ("places", places(), "point", ["NAME"]),
    ):
        layer = write_layer([frame], root / f"{name}.geojsonseq", name, fields,
                            minzoom=0, maxzoom=14, geometry=kind)  # fmt: skip
        run_tippecanoe([layer], root / f"{name}.pmtiles", name)
        out[name] = root / f"{name}.pmtiles"
    return out


def _tiles(path: Path) -> dict[tuple[int, int, int], bytes]:
    with Archive(path) as archive:
        return {(z, x, y): data for z, x, y, data in archive.iter_tiles()}


def test_join_many_writes_each_subset(parts: dict[str, Path], tmp_path: Path) -> None:
    paths = [parts["parcels"], parts["roads"], parts["places"]]
    both = JoinOutput(tmp_path / "all.pmtiles", (0, 1, 2), "all")
    some = JoinOutput(tmp_path / "some.pmtiles", (0, 2), "some", description="no roads")
    stats = join_many(paths, [both, some])
    for spec, want in ((both, {"parcels", "roads", "places"}), (some, {"parcels", "places"})):
        assert verify(spec.path) == []
        with Archive(spec.path) as archive:
            assert {v["id"] for v in archive.metadata()["vector_layers"]} == want
            assert archive.tile_compression == "gzip"
        tiles = _tiles(spec.path)
        union = set().union(*(_tiles(paths[i]).keys() for i in spec.parts))
        assert set(tiles) == union
        assert stats[spec.path].tiles == len(union)
        for key, data in tiles.items():
            layers = mapbox_vector_tile.decode(gzip.decompress(data))
            holders = {
                name for name in want
                if key in _tiles(parts[name])
            }  # fmt: skip
            assert set(layers) == holders, key
    # every feature still at maxzoom in the joined archive
    assert count_features_at_zoom(both.path, "parcels", 14) == len(parcels())
    assert count_features_at_zoom(both.path, "places", 14) == len(places())
    with Archive(some.path) as archive:
        assert archive.metadata()["description"] == "no roads"


def test_single_part_tiles_are_copied_as_stored(parts: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "one.pmtiles"
    join_archives([parts["roads"]], out, name="one")
    assert _tiles(out) == _tiles(parts["roads"])


def test_the_same_layer_twice_is_refused(parts: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "dup.pmtiles"
    with pytest.raises(BuildError, match="layer roads is in both"):
        join_archives([parts["roads"], parts["roads"]], out, name="dup")
    assert not out.exists() and not list(tmp_path.iterdir())
