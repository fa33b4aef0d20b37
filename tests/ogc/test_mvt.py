"""Keeping one layer of a vector tile by copying its protobuf field."""

from __future__ import annotations

import gzip

import mapbox_vector_tile
import pytest

from publish.ogc.mvt import TileDataError, keep_layer, layer_names


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
