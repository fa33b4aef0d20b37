"""GeoPackage geometry blobs to shapely and on to GeoJSON, vectorized; CRS changes on arrays.

A GeoPackage geometry is a header ("GP", version, flags, srs_id, an optional envelope whose size
the flags give) followed by standard WKB. Only the header is read here; shapely parses the WKB.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from publish.errors import PublishError

_MAGIC = b"GP"
_HEADER = 8  # magic, version, flags, srs_id
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)  # by the envelope indicator (flag bits 1-3)
_EMPTY = 0x10
_EXTENDED = 0x20


class GeometryBlobError(PublishError):
    """A GeoPackage geometry blob that cannot be read."""


def wkb_of(blob: bytes | None) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob; None for a NULL or an empty geometry."""
    if blob is None:
        return None
    if len(blob) < _HEADER or blob[:2] != _MAGIC:
        raise GeometryBlobError("not a GeoPackage geometry blob")
    flags = blob[3]
    if flags & _EXTENDED:
        raise GeometryBlobError("extended GeoPackage geometry types are not supported")
    indicator = (flags >> 1) & 0x07
    if indicator >= len(_ENVELOPE_BYTES):
        raise GeometryBlobError(f"invalid envelope indicator {indicator}")
    if flags & _EMPTY:
        return None
    start = _HEADER + _ENVELOPE_BYTES[indicator]
    if len(blob) <= start:
        raise GeometryBlobError("geometry blob ends before its WKB")
    return blob[start:]


def from_blobs(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries (None for NULL or empty) from GeoPackage geometry blobs."""
    try:
        return np.asarray(shapely.from_wkb([wkb_of(b) for b in blobs]), dtype=object)
    except shapely.errors.GEOSException as exc:
        raise GeometryBlobError(f"WKB does not parse: {exc}") from exc


def to_geojson(geometries: np.ndarray) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects (None stays None)."""
    if len(geometries) == 0:
        return []
    texts = shapely.to_geojson(geometries)
    return [None if text is None else json.loads(text) for text in texts]


@lru_cache(maxsize=32)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer:
    # Authority axis order on both sides, as pygeoapi's own `crs_transform` does: CRS84 in
    # (lon, lat), EPSG:4490 out in (lat, lon), EPSG:4546 out in (northing, easting).
    return Transformer.from_crs(CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt))


def transform(geometries: np.ndarray, source_wkt: str, target_wkt: str) -> np.ndarray:
    """The geometries with their coordinates transformed from one CRS (WKT) to another."""
    transformer = _transformer(source_wkt, target_wkt)

    def change(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geometries, change), dtype=object)
