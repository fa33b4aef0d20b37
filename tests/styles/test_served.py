"""Style URLs made absolute."""

from __future__ import annotations

from typing import Any

from publish.styles.served import render_style, source_layers


def test_root_relative_urls_become_absolute() -> None:
    style: dict[str, Any] = {
        "version": 8,
        "sources": {
            "plan": {"type": "vector", "url": "/tiles/public.json"},
            "raster": {"type": "raster", "tiles": ["/wmts/{z}/{x}/{y}.png", "https://t.cn/a"]},
            "remote": {"type": "vector", "url": "https://other.example/tiles.json"},
        },
        "glyphs": "/fonts/{fontstack}/{range}.pbf",
        "sprite": "/sprites/onemap",
        "layers": [{"id": "a", "type": "fill", "source": "plan", "source-layer": "ghfq"}],
    }
    out = render_style(style, "https://map.example")
    assert out["sources"]["plan"]["url"] == "https://map.example/tiles/public.json"
    assert out["sources"]["raster"]["tiles"] == [
        "https://map.example/wmts/{z}/{x}/{y}.png",
        "https://t.cn/a",
    ]
    assert out["sources"]["remote"]["url"] == "https://other.example/tiles.json"
    assert out["glyphs"] == "https://map.example/fonts/{fontstack}/{range}.pbf"
    assert out["sprite"] == "https://map.example/sprites/onemap"
    assert style["sources"]["plan"]["url"] == "/tiles/public.json", "the input is not changed"
    assert list(source_layers(out)) == ["ghfq"]
    multi = render_style({**style, "sprite": [{"id": "a", "url": "/s/a"}]}, "http://h")
    assert multi["sprite"] == [{"id": "a", "url": "http://h/s/a"}]
