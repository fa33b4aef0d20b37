"""The renderer draws a style's XYZ tiles with mapli (EGL surfaceless, on the CPU)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image

from publish.raster.renderer import Renderer

RED: dict[str, Any] = {
    "version": 8,
    "sources": {},
    "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#E60000"}}],
}


def test_renders_tiles_of_every_zoom_at_256_px() -> None:
    renderer = Renderer(workers=1)
    for z, x, y in ((0, 0, 0), (3, 6, 3), (14, 13226, 6804)):
        png = renderer.render_tile("red", lambda: RED, z, x, y)
        img = Image.open(io.BytesIO(png)).convert("RGBA")
        assert img.size == (256, 256)
        assert img.getpixel((128, 128)) == (230, 0, 0, 255)


def test_async_rendering_shares_the_pool() -> None:
    renderer = Renderer(workers=2)

    async def many() -> list[bytes]:
        return await asyncio.gather(
            *(renderer.arender_tile("red", lambda: RED, 5, i, 3) for i in range(6))
        )

    tiles = asyncio.run(many())
    assert len(set(tiles)) == 1
