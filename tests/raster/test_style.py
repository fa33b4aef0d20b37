"""The style rewritten for the renderer: local archive, glyph scheme, no background, one layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from publish.raster.style import (
    GLYPHS_URL,
    PLAN,
    rendering_style,
    style_layer_ids,
    visible_layer_ids,
)

STYLE: dict[str, Any] = {
    "version": 8,
    "glyphs": "/fonts/{fontstack}/{range}.pbf",
    "sprite": "/sprites/x",
    "sources": {"plan": {"type": "vector", "url": "/tiles/public.json"}},
    "layers": [
        {"id": "background", "type": "background", "paint": {"background-color": "#fff"}},
        {
            "id": "ydyh-fill",
            "type": "fill",
            "source": "plan",
            "source-layer": "ydyh",
            "layout": {"visibility": "none"},
            "metadata": {"onemap:layer": "ydyh"},
        },
        {
            "id": "stbhhx-line",
            "type": "line",
            "source": "plan",
            "source-layer": "stbhhx",
            "metadata": {"onemap:layer": "stbhhx"},
        },
    ],
}


def test_whole_map_reads_the_archive_and_keeps_visibility(tmp_path: Path) -> None:
    doc = rendering_style(STYLE, tmp_path / "public.pmtiles")
    assert doc["sources"]["plan"] == {
        "type": "vector",
        "url": f"pmtiles://file://{(tmp_path / 'public.pmtiles').resolve()}",
    }
    assert doc["glyphs"] == GLYPHS_URL
    assert "sprite" not in doc
    assert [layer["id"] for layer in doc["layers"]] == ["ydyh-fill", "stbhhx-line"]
    assert doc["layers"][0]["layout"]["visibility"] == "none"
    assert STYLE["sources"]["plan"]["url"] == "/tiles/public.json"  # the input is untouched


def test_one_layer_is_made_visible(tmp_path: Path) -> None:
    doc = rendering_style(STYLE, tmp_path / "a.pmtiles", "ydyh")
    assert [layer["id"] for layer in doc["layers"]] == ["ydyh-fill"]
    assert doc["layers"][0]["layout"]["visibility"] == "visible"


def test_layer_ids() -> None:
    assert style_layer_ids(STYLE) == ["ydyh", "stbhhx"]
    assert visible_layer_ids(STYLE) == ["stbhhx"]


def test_release_style_renders_every_public_layer(full_release: Any) -> None:
    style = json.loads((full_release.path / "styles" / "public.json").read_bytes())
    archive = full_release.path / "tiles" / "public.pmtiles"
    for layer in style_layer_ids(style):
        doc = rendering_style(style, archive, layer)
        assert doc["layers"], layer
        assert {item["metadata"]["onemap:layer"] for item in doc["layers"]} == {layer}
    whole = rendering_style(style, archive, PLAN)
    assert all(item["type"] != "background" for item in whole["layers"])
