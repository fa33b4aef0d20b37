"""Glyphs for the renderer: the `onemap-glyphs://{fontstack}/{range}.pbf` scheme, served from
publish.fonts' folder of glyph ranges.

A range the folder lacks (or a font it does not have) is answered with no content: MapLibre
Native then draws the label without those characters instead of failing the whole tile. Chinese
ranges are made on first request by publish.fonts.range_file (the browser draws Chinese from a
local font; MapLibre Native has none), so raster labels are in Chinese like the web map's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from publish.raster.style import GLYPHS_SCHEME

_URL = re.compile(rf"^{GLYPHS_SCHEME}://(?P<stack>[^/]+)/(?P<start>\d+)-(?P<end>\d+)\.pbf$")


def glyph_file(url: str) -> Path | None:
    """The file that answers `url` (the first font of the stack that has the range)."""
    from publish.fonts.glyphs import FontMissingError, range_file

    match = _URL.match(url)
    if match is None:
        return None
    for font in unquote(match["stack"]).split(","):
        try:
            path = range_file(font.strip(), int(match["start"]))
        except (FontMissingError, OSError):  # render without those labels, not fail the tile
            return None
        if path is not None:
            return path
    return None


def serve_glyphs(request: Any) -> Any:
    """The mapli scheme handler (runs on mapli's threads)."""
    import mapli

    path = glyph_file(request.url)
    if path is None:
        return mapli.Response.no_content()
    return path.read_bytes()
