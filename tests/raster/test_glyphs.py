"""Glyph ranges for the renderer come from publish.fonts; anything else is not found."""

from __future__ import annotations

from publish.fonts import glyphs_dir
from publish.raster.glyphs import glyph_file
from tests.fonts.glyphs_proto import decode_range

STACK = glyphs_dir() / "Noto Sans Regular"


def test_glyph_lookup() -> None:
    url = "onemap-glyphs://Noto%20Sans%20Regular/0-255.pbf"
    assert glyph_file(url) == STACK / "0-255.pbf"
    stack = "onemap-glyphs://Missing%20Font,Noto%20Sans%20Regular/0-255.pbf"
    assert glyph_file(stack) == STACK / "0-255.pbf"  # the first font that has it
    assert glyph_file("onemap-glyphs://Missing%20Font/0-255.pbf") is None
    assert glyph_file("onemap-glyphs://Noto%20Sans%20Regular/1-256.pbf") is None
    assert glyph_file("onemap-glyphs://..%2F..%2Fetc/0-255.pbf") is None
    assert glyph_file("onemap-glyphs://../0-255.pbf") is None
    assert glyph_file("file:///etc/passwd") is None


def test_chinese_ranges_are_made_for_the_renderer() -> None:
    """MapLibre Native has no local font: the range of 张 (U+5F20) holds its glyph."""
    path = glyph_file("onemap-glyphs://Noto%20Sans%20Regular/24320-24575.pbf")
    assert path == STACK / "24320-24575.pbf"
    [stack] = decode_range(path.read_bytes()).stacks
    zhang = {g.id: g for g in stack.glyphs}[ord("张")]
    assert zhang.bitmap and zhang.width > 15 and zhang.advance >= 20
