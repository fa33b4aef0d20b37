"""Raster tiles rendered from a release's own MapLibre style (one style, two renderings).

`style` rewrites a release style for the CPU renderer (local archive, local glyphs, no
background, one catalog layer or the whole map); `renderer` holds the process's bounded pool of
mapli renderers; `tiles` says which raster tiles exist; `routes` serves
/raster/{audience}/{z}/{x}/{y}.png. mapli is imported only when the first tile is rendered.
"""
