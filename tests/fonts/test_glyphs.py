"""Glyph ranges: the range grammar, the protobuf MapLibre reads, the SDF scale, the folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from publish.fonts import FONTSTACKS, glyphs_dir, parse_range
from publish.fonts.glyphs import (
    CJK_STARTS,
    BadRangeError,
    default_glyphs_dir,
    range_file,
    use_glyphs_dir,
)
from publish.fonts.pbf import Glyph, encode_range
from publish.fonts.sdf import BORDER_PX, _to_maplibre
from tests.fonts.glyphs_proto import decode_range

STACK = "Noto Sans Regular"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-255", (0, 255)),
        ("256-511", (256, 511)),
        ("65280-65535", (65280, 65535)),
        ("1-256", None),
        ("0-511", None),
        ("65536-65791", None),
    ],
)
def test_parse_range(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "0", "0-", "a-b", "0_255", "-1-254", "0-255.pbf", "1" * 9])
def test_malformed_range(text: str) -> None:
    with pytest.raises(BadRangeError, match="START-END"):
        parse_range(text)


def test_encoding_decodes_with_protobuf() -> None:
    glyphs = [
        Glyph(65, bytes(range(7 * 8)), 1, 2, -3, -20, 15),
        Glyph(32, b"", 0, 0, 0, 0, 6),
    ]
    message = decode_range(encode_range(STACK, 0, 255, glyphs))
    [stack] = message.stacks
    assert (stack.name, stack.range) == (STACK, "0-255")
    a, space = stack.glyphs
    assert (a.id, a.width, a.height, a.left, a.top, a.advance) == (65, 1, 2, -3, -20, 15)
    assert a.bitmap == bytes(range(56))
    assert (space.id, space.bitmap, space.advance) == (32, b"", 6)


def test_sdf_scale_is_maplibres() -> None:
    # FreeType: 128 on the outline, 16 a pixel; MapLibre: 191 on it, 255/8 a pixel
    values = _to_maplibre(np.array([128, 144, 112, 0, 255], dtype=np.uint8))
    assert values.tolist() == [191, 223, 159, 0, 255]


def test_generated_folder_has_every_range_of_each_fontstack() -> None:
    folder = glyphs_dir()
    for stack in FONTSTACKS:
        names = {p.name for p in (folder / stack).iterdir() if not p.name.startswith(".")}
        made_later = {f"{s}-{s + 255}.pbf" for s in CJK_STARTS}  # on first request
        assert names - made_later == {
            f"{s}-{s + 255}.pbf" for s in range(0, 65536, 256) if s not in CJK_STARTS
        }
    latin = decode_range((folder / STACK / "0-255.pbf").read_bytes())
    [stack] = latin.stacks
    by_id = {g.id: g for g in stack.glyphs}
    # ASCII letters, digits and punctuation are all there
    assert all(cp in by_id for cp in range(0x21, 0x7F))
    for glyph in by_id.values():
        if glyph.bitmap:
            w, h = glyph.width + 2 * BORDER_PX, glyph.height + 2 * BORDER_PX
            assert len(glyph.bitmap) == w * h
    a = by_id[ord("A")]
    assert 14 <= a.width <= 18 and 15 <= a.height <= 19 and a.advance >= 14
    bitmap = np.frombuffer(a.bitmap, dtype=np.uint8).reshape(a.height + 6, a.width + 6)
    assert bitmap.max() > 191 and bitmap[0].max() < 191  # inside, and the border is outside
    assert not by_id[ord(" ")].bitmap and by_id[ord(" ")].advance > 0
    # CJK is drawn in the browser (localIdeographFontFamily), but not by the raster renderer:
    # its ranges are made on first request, from the fallback font
    path = range_file(STACK, 19968)
    assert path == folder / STACK / "19968-20223.pbf"
    [cjk] = decode_range(path.read_bytes()).stacks
    ids = {g.id for g in cjk.glyphs}
    assert cjk.range == "19968-20223" and {0x4E00, ord("东"), ord("中")} <= ids
    assert len(ids) == len(cjk.glyphs) and all(g.bitmap for g in cjk.glyphs if g.id != 0x3000)
    assert range_file(STACK, 19969) is None and range_file("Missing", 19968) is None


def test_a_named_folder_is_copied_from_the_users_cache(tmp_path: Path) -> None:
    """A process that names its folder (a server's data folder) gets the user cache's glyphs
    copied there, its CJK ranges made there; without one it is the user's cache again."""
    cached = glyphs_dir()
    assert cached == default_glyphs_dir()
    range_file(STACK, 19968)  # made in the user's cache
    use_glyphs_dir(tmp_path / "data" / "glyphs")
    try:
        folder = glyphs_dir()
        assert folder == tmp_path / "data" / "glyphs"
        for name in ("0-255.pbf", "19968-20223.pbf"):
            assert (folder / STACK / name).read_bytes() == (cached / STACK / name).read_bytes()
        assert (folder / ".stamp").read_bytes() == (cached / ".stamp").read_bytes()
        made = range_file(STACK, 20224)
        assert made == folder / STACK / "20224-20479.pbf" and made.is_file()
    finally:
        use_glyphs_dir(None)
    assert glyphs_dir() == cached
