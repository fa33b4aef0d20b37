"""Label glyphs for MapLibre: signed-distance-field glyph ranges generated from a font on disk.

`glyphs_dir()` is the folder holding `{fontstack}/{start}-{end}.pbf` (the layout the style's
`glyphs` URL `/fonts/{fontstack}/{range}.pbf` names); the server and the raster renderer read it.
`use_glyphs_dir(folder)` says where the process keeps it (`serve`: its data folder's).
"""

from publish.fonts.glyphs import FONTSTACKS, glyphs_dir, parse_range, use_glyphs_dir

__all__ = ["FONTSTACKS", "glyphs_dir", "parse_range", "use_glyphs_dir"]
