"""TileJSON 3.0.0 for a PMTiles archive, and the one reading of its metadata's `vector_layers`.

Every TileJSON the server answers comes from `build_tilejson`: an audience's whole archive
(/tiles/{audience}.json, with the release id) and an OGC API collection's tiles (one layer,
the collection's zoom range, its title). They differ only in the parameters. The tile URL
depends on the request, so `with_tiles` adds it to a document built once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from publish.tiles.archive import Archive

__all__ = ["TILEJSON_VERSION", "build_tilejson", "vector_layers", "with_tiles"]

TILEJSON_VERSION = "3.0.0"


def vector_layers(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of the metadata's `vector_layers` that are objects with a string id, in
    order ([] when there is no such list)."""
    layers = metadata.get("vector_layers")
    if not isinstance(layers, list):
        return []
    return [la for la in layers if isinstance(la, dict) and isinstance(la.get("id"), str)]


def _zoom(value: Any, default: int, lo: int, hi: int) -> int:
    zoom = value if isinstance(value, int) and not isinstance(value, bool) else default
    return min(max(zoom, lo), hi)


def build_tilejson(
    archive: Archive,
    *,
    layers: Collection[str] | None = None,
    zooms: tuple[int, int] | None = None,
    name: str | None = None,
    description: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The TileJSON of `archive` without its `tiles` URL (see `with_tiles`).

    `layers` keeps only those of the archive's vector layers (in the archive's order; default
    all); `zooms` (min, max) narrows the document to a zoom range (default the archive's), and
    every layer's own range is clipped to it. `name` and `description` default to the archive
    metadata's; `extra` adds members (e.g. a vendor key).
    """
    meta = archive.labels()
    minzoom, maxzoom = zooms if zooms is not None else (archive.minzoom, archive.maxzoom)
    lon, lat, zoom = archive.center
    listed = [
        {
            **la,
            "fields": dict(la.get("fields") or {}),
            "minzoom": _zoom(la.get("minzoom"), minzoom, minzoom, maxzoom),
            "maxzoom": _zoom(la.get("maxzoom"), maxzoom, minzoom, maxzoom),
        }
        for lid, la in archive.vector_layers().items()
        if layers is None or lid in layers
    ]
    doc: dict[str, Any] = {
        "tilejson": TILEJSON_VERSION,
        "name": name if name is not None else meta.get("name") or "",
        "description": description if description is not None else meta.get("description") or "",
        "version": "1.0.0",
        "scheme": "xyz",
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": list(archive.bounds),
        "center": [lon, lat, min(max(zoom, minzoom), maxzoom)],
        "vector_layers": listed,
    }
    if meta.get("attribution"):
        doc["attribution"] = meta["attribution"]
    doc.update(extra or {})
    return doc


def with_tiles(doc: Mapping[str, Any], *urls: str) -> dict[str, Any]:
    """The TileJSON `doc` with its absolute `tiles` URL templates."""
    return {**doc, "tiles": list(urls)}
