"""The conflicts layer in the viewer (Chromium): listed with the other layers, off when the map
opens, and, once ticked, drawn in its kind's colour where the archive holds a conflict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from publish.styles.symbols import load_symbols
from tests.mvt import decoded_tiles, tile_to_lonlat
from tests.viewer.browser import Server, colour_mask, hex_rgb, open_map, pixels, wait_idle

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

KIND, FILL, OPACITY = "farmland_outside_protection", "#7048E8", 0.35  # styles/conflicts.yml
PANEL_RIGHT = 340  # the desktop side panel


def _largest(release: Any) -> tuple[float, float]:
    """A point inside the largest polygon of KIND in the public archive's z12 tiles."""
    best: tuple[float, tuple[float, float]] = (0.0, (0.0, 0.0))
    for x, y, tile in decoded_tiles(release / "tiles" / "public.pmtiles", 12):
        layer = tile.get("conflicts")
        for feature in (layer or {}).get("features", []):
            if feature["properties"]["kind"] != KIND:
                continue
            shape = shapely.geometry.shape(feature["geometry"])
            if shape.area > best[0]:
                inside = shapely.point_on_surface(shape)
                best = (shape.area, tile_to_lonlat(12, x, y, inside.x, inside.y, layer["extent"]))
    assert best[0] > 0
    return best[1]


def _blend() -> str:
    paper = np.array(hex_rgb(load_symbols().background), dtype=float)
    mixed = paper * (1 - OPACITY) + np.array(hex_rgb(FILL), dtype=float) * OPACITY
    return "#" + "".join(f"{round(v):02X}" for v in mixed)


def test_conflicts_are_drawn_when_ticked(
    viewer_server: Server, new_page: Any, full_release: BuildResult
) -> None:
    lon, lat = _largest(full_release.path)
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_map(page, f"{viewer_server.base}/#map=13/{lat}/{lon}&layers=conflicts")
    box = page.locator('input[data-layer="conflicts"]')
    assert box.is_checked()
    size = page.viewport_size
    clip = {
        "x": PANEL_RIGHT,
        "y": 0,
        "width": size["width"] - PANEL_RIGHT,
        "height": size["height"],
    }
    image = pixels(page.screenshot(clip=clip))
    drawn = colour_mask(image, _blend(), tolerance=8).mean()
    assert drawn > 0.02, drawn
    # the outline in the kind's own colour
    assert colour_mask(image, FILL, tolerance=12).sum() > 50
    box.uncheck()
    wait_idle(page)
    assert colour_mask(pixels(page.screenshot(clip=clip)), _blend(), tolerance=8).mean() < 0.001
    assert errors == []
