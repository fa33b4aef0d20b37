"""The glyph range protobuf MapLibre reads (glyphs.proto of the Mapbox/MapLibre font tools):

    message glyph { required uint32 id = 1; optional bytes bitmap = 2; required uint32 width = 3;
                    required uint32 height = 4; required sint32 left = 5; required sint32 top = 6;
                    required uint32 advance = 7; }
    message fontstack { required string name = 1; required string range = 2;
                        repeated glyph glyphs = 3; }
    message glyphs { repeated fontstack stacks = 1; }

Three messages of scalar fields: written here with a few lines of varint encoding rather than a
protobuf code-generation step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_VARINT, _BYTES = 0, 2


@dataclass(frozen=True)
class Glyph:
    """One glyph: its SDF bitmap ((width + 6) × (height + 6) bytes, 3 px of border; empty for
    a glyph with no outline) and its metrics in pixels at 24 px."""

    id: int
    bitmap: bytes
    width: int
    height: int
    left: int
    top: int
    advance: int


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _field_bytes(field: int, data: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(data)) + data


def _field_uint(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(value)


def _glyph(glyph: Glyph) -> bytes:
    parts = [_field_uint(1, glyph.id)]
    if glyph.bitmap:
        parts.append(_field_bytes(2, glyph.bitmap))
    parts += [
        _field_uint(3, glyph.width),
        _field_uint(4, glyph.height),
        _field_uint(5, _zigzag(glyph.left)),
        _field_uint(6, _zigzag(glyph.top)),
        _field_uint(7, glyph.advance),
    ]
    return b"".join(parts)


def encode_range(fontstack: str, start: int, end: int, glyphs: Iterable[Glyph]) -> bytes:
    """The `glyphs` message for one fontstack and one range `start-end`."""
    stack = _field_bytes(1, fontstack.encode("utf-8")) + _field_bytes(
        2, f"{start}-{end}".encode("ascii")
    )
    stack += b"".join(_field_bytes(3, _glyph(g)) for g in glyphs)
    return _field_bytes(1, stack)
