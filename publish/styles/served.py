"""MapLibre style documents as served: root-relative URLs made absolute for this server."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any


def _absolute(url: Any, base_url: str) -> Any:
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
        return base_url + url
    return url


def render_style(
    style: Mapping[str, Any], base_url: str, *, sources_url: str | None = None
) -> dict[str, Any]:
    """A copy of `style` whose root-relative URLs (each source's `url` and `tiles`, `glyphs`,
    `sprite`) start with `base_url` (no trailing slash), e.g. /tiles/public.json →
    https://host/tiles/public.json: MapLibre needs absolute URLs. The sources' URLs start with
    `sources_url` instead when it is given (a kept release's: https://host/releases/<id>)."""
    doc = copy.deepcopy(dict(style))
    sources_base = base_url if sources_url is None else sources_url
    for source in (doc.get("sources") or {}).values():
        if not isinstance(source, dict):
            continue
        if "url" in source:
            source["url"] = _absolute(source["url"], sources_base)
        if isinstance(source.get("tiles"), list):
            source["tiles"] = [_absolute(t, sources_base) for t in source["tiles"]]
    if "glyphs" in doc:
        doc["glyphs"] = _absolute(doc["glyphs"], base_url)
    sprite = doc.get("sprite")
    if isinstance(sprite, list):  # [{"id": ..., "url": ...}]
        doc["sprite"] = [
            {**s, "url": _absolute(s.get("url"), base_url)} if isinstance(s, dict) else s
            for s in sprite
        ]
    elif sprite is not None:
        doc["sprite"] = _absolute(sprite, base_url)
    return doc


def source_layers(style: Mapping[str, Any]) -> Iterator[str]:
    """Every `source-layer` the style's layers draw."""
    for layer in style.get("layers") or []:
        if isinstance(layer, dict) and isinstance(layer.get("source-layer"), str):
            yield layer["source-layer"]


def source_urls(style: Mapping[str, Any]) -> Iterator[str]:
    """Every source `url` and `tiles` template of the style."""
    for source in (style.get("sources") or {}).values():
        if isinstance(source, dict):
            if isinstance(source.get("url"), str):
                yield source["url"]
            yield from (t for t in source.get("tiles") or [] if isinstance(t, str))
