"""TileJSON 3.0.0 documents for an audience's archive (pure functions, no HTTP)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from publish.tiles.archive import Archive

TILEJSON_VERSION = "3.0.0"


def archive_layer_ids(archive: Archive) -> list[str]:
    """The ids in the archive metadata's `vector_layers`."""
    layers = archive.metadata().get("vector_layers") or []
    return [la["id"] for la in layers if isinstance(la, dict) and isinstance(la.get("id"), str)]


def tilejson_base(
    archive: Archive, layers: Collection[str], *, release_id: str, name: str | None = None
) -> dict[str, Any]:
    """Everything of the TileJSON but the tile URL; `vector_layers` keeps only `layers`."""
    meta = archive.metadata()
    vector_layers = [
        la
        for la in meta.get("vector_layers") or []
        if isinstance(la, dict) and la.get("id") in layers
    ]
    lon, lat, zoom = archive.center
    doc: dict[str, Any] = {
        "tilejson": TILEJSON_VERSION,
        "name": name or meta.get("name") or "",
        "description": meta.get("description") or "",
        "version": "1.0.0",
        "scheme": "xyz",
        "minzoom": archive.minzoom,
        "maxzoom": archive.maxzoom,
        "bounds": list(archive.bounds),
        "center": [lon, lat, min(max(zoom, archive.minzoom), archive.maxzoom)],
        "vector_layers": vector_layers,
        "onemap:release": release_id,
    }
    if meta.get("attribution"):
        doc["attribution"] = meta["attribution"]
    return doc


def render_tilejson(base: Mapping[str, Any], tiles_url: str) -> dict[str, Any]:
    """The TileJSON with its absolute `tiles` template (…/{z}/{x}/{y}.mvt)."""
    return {**base, "tiles": [tiles_url]}
