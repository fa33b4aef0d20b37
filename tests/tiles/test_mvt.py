"""Tests for publish.tiles.mvt: vector tiles read at the protobuf level, and decoded."""

from __future__ import annotations

import gzip
from pathlib import Path

import mapbox_vector_tile
import pytest

from publish.tiles.archive import Archive, ArchiveError
from publish.tiles.inputs import LayerInput
from publish.tiles.mvt import TileDataError, decode_tile, feature_ids, keep_layer, layer_names


def tile(*names: str) -> bytes:
    data: bytes = mapbox_vector_tile.encode(
        [
            {
                "name": name,
                "features": [{"geometry": "POINT(10 20)", "properties": {"名称": name}, "id": 1}],
            }
            for name in names
        ]
    )
    return data


def test_one_layer_is_kept_whole() -> None:
    raw = tile("stbhhx", "hl", "spxm")
    assert layer_names(raw) == ["stbhhx", "hl", "spxm"]
    only = keep_layer(raw, "hl")
    assert only is not None
    decoded = mapbox_vector_tile.decode(only)
    assert list(decoded) == ["hl"]
    assert decoded["hl"]["features"][0]["properties"] == {"名称": "hl"}
    assert decoded["hl"] == mapbox_vector_tile.decode(raw)["hl"]


def test_a_tile_of_only_that_layer_is_unchanged() -> None:
    raw = tile("hl")
    assert keep_layer(raw, "hl") == raw


def test_a_missing_layer_gives_none() -> None:
    assert keep_layer(tile("stbhhx"), "hl") is None
    assert keep_layer(b"", "hl") is None


def test_a_truncated_tile_is_refused() -> None:
    raw = tile("stbhhx", "hl")
    with pytest.raises(TileDataError):
        keep_layer(raw[:-3], "hl")
    with pytest.raises(TileDataError):
        keep_layer(gzip.compress(raw), "hl")  # compressed bytes are not a tile


def test_decode_tile_compressions() -> None:
    raw = tile("zoning")
    assert decode_tile(raw, None)["zoning"]["features"][0]["properties"] == {"名称": "zoning"}
    assert decode_tile(gzip.compress(raw), "gzip") == decode_tile(raw, None)
    with pytest.raises(ArchiveError, match="br"):
        decode_tile(raw, "br")


def message(field: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (payloads below 128 bytes)."""
    return bytes([field << 3 | 2, len(payload)]) + payload


def test_feature_ids_of_the_named_layers() -> None:
    raw = tile("stbhhx", "hl")
    assert feature_ids(raw, None, ["hl"]) == {"hl": [1]}
    assert feature_ids(gzip.compress(raw), "gzip", ["hl", "stbhhx", "absent"]) == {
        "stbhhx": [1],
        "hl": [1],
    }
    id_last = b"\x18\x01" + b"\x08\x2a"  # type = point, then id = 42
    no_id = b"\x18\x01"
    layer = message(1, b"x") + message(2, id_last) + message(2, no_id)
    assert feature_ids(message(3, layer), None, ["x"]) == {"x": [42, None]}
    with pytest.raises(TileDataError):
        feature_ids(message(3, layer)[:-1], None, ["x"])
    with pytest.raises(TileDataError, match="br"):
        feature_ids(raw, "br", ["hl"])


def test_feature_ids_match_full_decode(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, _ = built
    with Archive(out) as archive:
        for _z, _x, _y, data in archive.iter_tiles():
            full = mapbox_vector_tile.decode(gzip.decompress(data))
            fast = feature_ids(data, archive.tile_compression, full.keys())
            assert {k: [f["id"] for f in v["features"]] for k, v in full.items()} == fast
