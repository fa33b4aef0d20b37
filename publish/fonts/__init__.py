"""Label glyphs for MapLibre: signed-distance-field glyph ranges generated from a font on disk.

`glyphs_dir()` is the folder holding `{fontstack}/{start}-{end}.pbf` (the layout the style's
`glyphs` URL `/fonts/{fontstack}/{range}.pbf` names); the server and the raster renderer read it.
"""

from publish.fonts.glyphs import FONTSTACKS, glyphs_dir, parse_range

__all__ = ["FONTSTACKS", "glyphs_dir", "parse_range"]
