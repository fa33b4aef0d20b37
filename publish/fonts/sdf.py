"""Signed distance fields of a font's glyphs, rendered by FreeType's own SDF renderer.

MapLibre's glyph convention (that of its TinySDF and of fontnik): the font at 24 px, a 3 px
border around each glyph's box, one byte a pixel with 255 − 255·(d / 8 + 0.25) where d is the
distance to the outline in pixels (positive outside), so the outline sits at 191.

FreeType (2.11 and later) renders an SDF with `spread` = 8 px of padding, one byte a pixel with
128 on the outline and 16 a pixel (inside above): the padding is cropped to 3 px and the values
mapped to MapLibre's scale.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from publish.fonts.pbf import Glyph

SIZE_PX = 24  # the font size MapLibre's glyph metrics are in
BORDER_PX = 3  # MapLibre's GLYPH_PBF_BORDER
RADIUS_PX = 8.0  # distance range of MapLibre's SDF encoding
CUTOFF = 0.25  # where the outline sits in it (255 · (1 − 0.25) ≈ 191)
_FT_SPREAD_PX = 8  # FreeType's default SDF spread (and padding)
_FT_EDGE = 128.0
_FT_STEP = 128.0 / _FT_SPREAD_PX  # FreeType value units per pixel of distance


def _to_maplibre(ft: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    inside_px = (ft.astype(np.float64) - _FT_EDGE) / _FT_STEP
    value = 255.0 - 255.0 * (-inside_px / RADIUS_PX + CUTOFF)
    return np.clip(np.rint(value), 0, 255).astype(np.uint8)


def render_glyphs(font: Path, codepoints: list[int]) -> Iterator[Glyph]:
    """The glyph of each code point of `codepoints` that `font` has, in that order."""
    import freetype  # heavy: only when glyphs are generated

    face = freetype.Face(str(font))
    face.set_pixel_sizes(0, SIZE_PX)
    ascender = face.size.ascender >> 6
    crop = _FT_SPREAD_PX - BORDER_PX
    for cp in codepoints:
        if face.get_char_index(cp) == 0:
            continue
        face.load_char(cp, freetype.FT_LOAD_NO_HINTING)
        slot = face.glyph
        advance = round(slot.advance.x / 64)
        bitmap = b""
        width = height = left = top = 0
        if slot.outline.n_points:
            slot.render(freetype.FT_RENDER_MODE_SDF)
            bm = slot.bitmap
            if bm.width > 2 * _FT_SPREAD_PX and bm.rows > 2 * _FT_SPREAD_PX:
                ft = np.array(bm.buffer, dtype=np.uint8).reshape(bm.rows, bm.pitch)[:, : bm.width]
                cropped = ft[crop : bm.rows - crop, crop : bm.width - crop]
                bitmap = _to_maplibre(cropped).tobytes()
                width = bm.width - 2 * _FT_SPREAD_PX
                height = bm.rows - 2 * _FT_SPREAD_PX
                left = slot.bitmap_left + _FT_SPREAD_PX
                top = slot.bitmap_top - _FT_SPREAD_PX - ascender
        yield Glyph(cp, bitmap, width, height, left, top, advance)


def font_codepoints(font: Path) -> list[int]:
    """Every code point `font` maps to a glyph, ascending."""
    import freetype

    face = freetype.Face(str(font))
    return sorted({cp for cp, index in face.get_chars() if index})
