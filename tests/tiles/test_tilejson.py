"""Tests for publish.tiles.tilejson: the one TileJSON writer and the vector_layers reading."""

from __future__ import annotations

from pathlib import Path

from pmtiles.tile import zxy_to_tileid

from publish.tiles.archive import Archive
from publish.tiles.tilejson import build_tilejson, vector_layers, with_tiles
from tests.tiles.test_archive import BOUNDS, MAXZOOM, MINZOOM, covering, mvt, write_archive

LAYERS = [
    {"id": "zoning", "description": "", "fields": {"code": "String"}, "minzoom": 3, "maxzoom": 10},
    {"id": "roads", "description": "道路", "fields": {}, "minzoom": 6, "maxzoom": 10},
]


def archive_with(tmp_path: Path, metadata: dict[str, object]) -> Path:
    tiles = {zxy_to_tileid(*t): mvt(*t) for z in (MINZOOM, MAXZOOM) for t in covering(z, BOUNDS)}
    path = tmp_path / "a.pmtiles"
    write_archive(path, tiles, metadata=metadata)
    return path


def test_vector_layers_keeps_objects_with_an_id() -> None:
    assert vector_layers({"vector_layers": [*LAYERS, {"id": 3}, "x", {}]}) == LAYERS
    assert vector_layers({"vector_layers": {"id": "zoning"}}) == []
    assert vector_layers({}) == []


def test_a_whole_archive(tmp_path: Path) -> None:
    meta = {
        "name": "一张图",
        "description": "规划",
        "attribution": "规划局",
        "vector_layers": LAYERS,
    }
    with Archive(archive_with(tmp_path, meta)) as archive:
        assert list(archive.vector_layers()) == ["zoning", "roads"]
        doc = build_tilejson(archive, extra={"onemap:release": "r1"})
        assert doc["tilejson"] == "3.0.0" and doc["scheme"] == "xyz"
        assert (doc["name"], doc["description"], doc["attribution"]) == ("一张图", "规划", "规划局")
        assert (doc["minzoom"], doc["maxzoom"]) == (MINZOOM, MAXZOOM)
        assert doc["bounds"] == list(archive.bounds)
        assert doc["center"][2] == MINZOOM
        assert doc["vector_layers"] == LAYERS  # as stored
        assert doc["onemap:release"] == "r1"
        assert "tiles" not in doc
        only = build_tilejson(archive, layers={"roads", "absent"})
        assert [la["id"] for la in only["vector_layers"]] == ["roads"]
        assert "onemap:release" not in only
    url = "https://x/tiles/{z}/{x}/{y}.mvt"
    assert with_tiles(doc, url) == {**doc, "tiles": [url]}


def test_one_layer_in_a_zoom_range(tmp_path: Path) -> None:
    with Archive(archive_with(tmp_path, {"name": "n", "vector_layers": LAYERS})) as archive:
        doc = build_tilejson(archive, layers=("zoning",), zooms=(5, 8), name="T", description="")
        assert archive.vector_layers()["zoning"]["minzoom"] == 3  # the shared reading is unchanged
    assert (doc["name"], doc["description"]) == ("T", "")
    assert (doc["minzoom"], doc["maxzoom"]) == (5, 8)
    assert doc["center"][2] == 5
    assert "attribution" not in doc
    (layer,) = doc["vector_layers"]
    assert layer == {**LAYERS[0], "minzoom": 5, "maxzoom": 8}
