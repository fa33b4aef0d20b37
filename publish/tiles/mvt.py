"""Mapbox Vector Tiles read at the protobuf level: layer names, one layer's bytes, feature ids.

An MVT is a protobuf `Tile` whose field 3 (`layers`) repeats; a layer is a message whose field 1
is its name and field 2 repeats its features; a feature's field 1 is its id. Walking these fields
and skipping geometries and tags is tens of times faster than a full decode and needs no MVT
library. The build counts the feature ids of every tile tippecanoe wrote (`feature_ids`); the
OGC API keeps one layer of a tile by copying that layer's bytes (`layer_tile`), so a tile that
holds only that layer goes out exactly as stored (same bytes, same ETag). `decode_tile` is the
full decode (mapbox_vector_tile, a dev dependency) for tests and checks.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from publish.tiles.archive import Archive, ArchiveError, TileResult, TileStatus, lookup, tile_etag

__all__ = [
    "TileDataError",
    "decode_tile",
    "decompress",
    "feature_ids",
    "fields",
    "keep_layer",
    "layer_names",
    "layer_tile",
]

_LAYERS = 3  # Tile.layers
_NAME = 1  # Layer.name
_FEATURES = 2  # Layer.features
_ID = 1  # Feature.id
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_ID_KEY = _ID << 3 | _VARINT  # the byte tippecanoe starts each feature with
_GZIP_LEVEL = 6


class TileDataError(ArchiveError):
    """Stored tile bytes that are not a readable vector tile."""


def decompress(data: bytes, compression: str | None) -> bytes:
    """The plain MVT bytes of a stored tile (`compression` as in `Archive.tile_compression`)."""
    if compression == "gzip":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise TileDataError(f"stored tile does not decompress: {exc}") from exc
    if compression in (None, "", "identity"):
        return data
    raise TileDataError(f"cannot read {compression!r}-compressed tiles")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    value = shift = 0
    try:
        while True:
            byte = buf[pos]
            pos += 1
            if byte < 0x80:
                return value | byte << shift, pos
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 63:
                raise TileDataError("varint longer than 64 bits")
    except IndexError:
        raise TileDataError("truncated varint") from None


def fields(
    buf: bytes, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, start of the field, start of its value, end) of each field of
    the protobuf message `buf[start:end]`; TileDataError when it does not parse."""
    end = len(buf) if end is None else end
    pos = start
    try:
        while pos < end:
            first = pos
            key = buf[pos]  # one byte for field numbers below 16, as in vector tiles
            pos += 1
            if key >= 0x80:
                key, pos = _varint(buf, first)
            wire = key & 0x07
            if wire == _LENGTH_DELIMITED:
                size = buf[pos]
                value = pos + 1
                if size >= 0x80:
                    size, value = _varint(buf, pos)
                pos = value + size
            elif wire == _VARINT:
                value = pos
                while buf[pos] >= 0x80:
                    pos += 1
                pos += 1
            elif wire == _FIXED64:
                value, pos = pos, pos + 8
            elif wire == _FIXED32:
                value, pos = pos, pos + 4
            else:
                raise TileDataError(f"unsupported protobuf wire type {wire}")
            if pos > end:
                raise TileDataError("field runs past the end of its message")
            yield key >> 3, wire, first, value, pos
    except IndexError:
        raise TileDataError("the tile ends inside a field") from None


def _layer_name(buf: bytes, start: int, end: int) -> str | None:
    for number, wire, _first, value, stop in fields(buf, start, end):
        if number == _NAME and wire == _LENGTH_DELIMITED:
            return buf[value:stop].decode("utf-8", errors="replace")
    return None


def layer_names(tile: bytes) -> list[str]:
    """The layer names of an uncompressed vector tile, in order."""
    return [
        name
        for number, wire, _first, value, end in fields(tile)
        if number == _LAYERS
        and wire == _LENGTH_DELIMITED
        and (name := _layer_name(tile, value, end)) is not None
    ]


def keep_layer(tile: bytes, layer: str) -> bytes | None:
    """The uncompressed vector tile `tile` with only the layer named `layer`; None if absent."""
    kept = [
        tile[first:end]
        for number, wire, first, value, end in fields(tile)
        if number == _LAYERS
        and wire == _LENGTH_DELIMITED
        and _layer_name(tile, value, end) == layer
    ]
    return b"".join(kept) if kept else None


def _feature_id(buf: bytes, start: int, end: int) -> int | None:
    if start < end and buf[start] == _ID_KEY:  # the id first: how tippecanoe writes features
        fid, pos = _varint(buf, start + 1)
        if pos > end:
            raise TileDataError("field runs past the end of its message")
        return fid
    for number, wire, _first, value, _end in fields(buf, start, end):
        if number == _ID and wire == _VARINT:
            return _varint(buf, value)[0]
    return None


def feature_ids(
    data: bytes, compression: str | None, layers: Iterable[str]
) -> dict[str, list[int | None]]:
    """The feature ids (None where a feature has none) of the named layers in one stored tile,
    by layer (a layer the tile lacks is left out); TileDataError when the tile does not read."""
    tile = decompress(data, compression)
    wanted = set(layers)
    out: dict[str, list[int | None]] = {}
    for number, wire, _first, value, end in fields(tile):
        if number != _LAYERS or wire != _LENGTH_DELIMITED:
            continue
        name: str | None = None
        features: list[tuple[int, int]] = []
        for lnumber, lwire, _lfirst, lvalue, lend in fields(tile, value, end):
            if lwire != _LENGTH_DELIMITED:
                continue
            if lnumber == _FEATURES:
                features.append((lvalue, lend))
            elif lnumber == _NAME:
                name = tile[lvalue:lend].decode("utf-8", errors="replace")
        if name in wanted:
            out.setdefault(name, []).extend(_feature_id(tile, fs, fe) for fs, fe in features)
    return out


def layer_tile(archive: Archive, layer: str, z: int, x: int, y: int) -> TileResult:
    """The tile z/x/y of `archive` holding only `layer`, compressed as the archive's tiles are.

    EMPTY when the stored tile lacks the layer (or nothing is stored inside the bounds),
    NOT_FOUND outside the archive's zooms or bounds, as `lookup` says.
    """
    stored = lookup(archive, z, x, y)
    if stored.status is not TileStatus.OK or stored.data is None:
        return stored
    raw = decompress(stored.data, archive.tile_compression)
    only = keep_layer(raw, layer)
    if only is None:
        return TileResult(TileStatus.EMPTY)
    if len(only) == len(raw):
        return stored
    data = gzip.compress(only, _GZIP_LEVEL, mtime=0) if archive.tile_compression else only
    return TileResult(TileStatus.OK, data, tile_etag(data))


def decode_tile(data: bytes, compression: str | None) -> dict[str, Any]:
    """Decode stored MVT bytes (`compression` as in `Archive.tile_compression`) to layers."""
    import mapbox_vector_tile  # a dev dependency, used by tests and checks only

    decoded: dict[str, Any] = mapbox_vector_tile.decode(decompress(data, compression))
    return decoded
