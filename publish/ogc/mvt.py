"""One layer of a stored vector tile, for OGC API collection tiles.

An audience's archive holds every layer in each tile; a collection's tile should hold only the
collection's layer. An MVT is a protobuf message whose field 3 (`layers`) repeats, each layer a
message whose field 1 is its name; so a layer is kept by copying the bytes of its field, with no
decoding of features (and no re-encoding of geometry). A tile that holds only the wanted layer
goes out exactly as stored (same bytes, same ETag).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

from publish.tiles.archive import Archive, ArchiveError, TileResult, TileStatus, lookup, tile_etag

_LAYERS = 3  # Tile.layers
_NAME = 1  # Layer.name
_LENGTH_DELIMITED = 2
_GZIP_LEVEL = 6


class TileDataError(ArchiveError):
    """Stored tile bytes that are not a readable vector tile."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise TileDataError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise TileDataError("varint longer than 64 bits")


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, start of the field, start of its value, end) of each field."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 0x07
        value = pos
        if wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == _LENGTH_DELIMITED:
            size, value = _varint(buf, pos)
            pos = value + size
        elif wire == 5:
            pos += 4
        else:
            raise TileDataError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise TileDataError("field runs past the end of the tile")
        yield number, wire, start, value, pos


def _layer_name(layer: memoryview) -> str | None:
    for number, wire, _start, value, end in _fields(layer):
        if number == _NAME and wire == _LENGTH_DELIMITED:
            return bytes(layer[value:end]).decode("utf-8", errors="replace")
    return None


def layer_names(tile: bytes) -> list[str]:
    """The layer names of an uncompressed vector tile, in order."""
    buf = memoryview(tile)
    return [
        name
        for number, wire, _start, value, end in _fields(buf)
        if number == _LAYERS
        and wire == _LENGTH_DELIMITED
        and (name := _layer_name(buf[value:end])) is not None
    ]


def keep_layer(tile: bytes, layer: str) -> bytes | None:
    """The uncompressed vector tile `tile` with only the layer named `layer`; None if absent."""
    buf = memoryview(tile)
    kept = [
        bytes(buf[start:end])
        for number, wire, start, value, end in _fields(buf)
        if number == _LAYERS and wire == _LENGTH_DELIMITED and _layer_name(buf[value:end]) == layer
    ]
    return b"".join(kept) if kept else None


def _decompress(data: bytes, compression: str | None) -> bytes:
    if compression == "gzip":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise TileDataError(f"stored tile does not decompress: {exc}") from exc
    if compression is None:
        return data
    raise TileDataError(f"cannot read {compression!r}-compressed tiles")


def collection_tile(archive: Archive, layer: str, z: int, x: int, y: int) -> TileResult:
    """The tile z/x/y of `archive` holding only `layer`, compressed as the archive's tiles are.

    EMPTY when the stored tile lacks the layer (or nothing is stored inside the bounds),
    NOT_FOUND outside the archive's zooms or bounds, as `lookup` says.
    """
    stored = lookup(archive, z, x, y)
    if stored.status is not TileStatus.OK or stored.data is None:
        return stored
    raw = _decompress(stored.data, archive.tile_compression)
    only = keep_layer(raw, layer)
    if only is None:
        return TileResult(TileStatus.EMPTY)
    if len(only) == len(raw):
        return stored
    data = gzip.compress(only, _GZIP_LEVEL, mtime=0) if archive.tile_compression else only
    return TileResult(TileStatus.OK, data, tile_etag(data))


def decompressed(result: TileResult, compression: str | None) -> bytes | None:
    """The plain MVT bytes of a `collection_tile` result (None unless OK)."""
    if result.status is not TileStatus.OK or result.data is None:
        return None
    return _decompress(result.data, compression)
