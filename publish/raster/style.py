"""A release style rewritten for rendering on the server (mapli / MapLibre Native).

The style the browser gets reads the archive through /tiles/{audience}.json and glyphs from
/fonts/…; the renderer reads the release's archive file directly (`pmtiles://file://…`) and
glyphs through the `onemap-glyphs://` scheme (publish.raster.glyphs). The background layer is
left out, so a raster is transparent where the plan has no data. `layer` keeps the style layers
of one catalog layer (made visible: a surface hidden when the map opens is still a layer of its
own); the whole map (`PLAN`) keeps the style's own visibility.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PLAN = "plan"  # the whole planning map, as the public map shows it when it opens
GLYPHS_SCHEME = "onemap-glyphs"
GLYPHS_URL = GLYPHS_SCHEME + "://{fontstack}/{range}.pbf"
LAYER_KEY = "onemap:layer"


def style_key(release_id: str, audience: str, layer: str = PLAN) -> str:
    """The renderer's name for one rendering of a release's style (/raster and MapProxy)."""
    return f"{release_id}/{audience}/{layer}"


def style_layer_ids(style: Mapping[str, Any]) -> list[str]:
    """The catalog layers a style draws, in drawing order, each once."""
    seen: dict[str, None] = {}
    for layer in style.get("layers", []):
        layer_id = (layer.get("metadata") or {}).get(LAYER_KEY)
        if layer_id:
            seen.setdefault(str(layer_id), None)
    return list(seen)


def visible_layer_ids(style: Mapping[str, Any]) -> list[str]:
    """The catalog layers the whole map shows when it opens (a style layer not set to none)."""
    seen: dict[str, None] = {}
    for layer in style.get("layers", []):
        layer_id = (layer.get("metadata") or {}).get(LAYER_KEY)
        if layer_id and (layer.get("layout") or {}).get("visibility", "visible") != "none":
            seen.setdefault(str(layer_id), None)
    return list(seen)


def rendering_style(style: Mapping[str, Any], archive: Path, layer: str = PLAN) -> dict[str, Any]:
    """A copy of `style` for the renderer: its vector sources read `archive`, glyphs come
    through the glyph scheme, no background; `layer` selects one catalog layer (or PLAN)."""
    doc = copy.deepcopy(dict(style))
    url = "pmtiles://file://" + str(Path(archive).resolve())
    for source in doc.get("sources", {}).values():
        if source.get("type") == "vector":
            source.pop("tiles", None)
            source["url"] = url
    if "glyphs" in doc:
        doc["glyphs"] = GLYPHS_URL
    doc.pop("sprite", None)
    kept = []
    for item in doc.get("layers", []):
        if item.get("type") == "background":
            continue
        if layer != PLAN:
            if (item.get("metadata") or {}).get(LAYER_KEY) != layer:
                continue
            item.setdefault("layout", {})["visibility"] = "visible"
        kept.append(item)
    doc["layers"] = kept
    return doc
