"""GeoPackage geometry blobs to shapely, vectorized.

A GeoPackage geometry is a header ("GP", version, flags, srs_id, an optional envelope whose size
the flags give) followed by standard WKB. Only the header is read here; shapely parses the WKB.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from publish.gpkg.errors import GeometryBlobError

_MAGIC = b"GP"
_HEADER = 8  # magic, version, flags, srs_id
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)  # by the envelope indicator (flag bits 1-3)
_EMPTY = 0x10
_EXTENDED = 0x20


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


def _starts() -> dict[bytes, int]:
    """Where the WKB starts, by a blob's first four bytes (magic, version 0, flags), for every
    header of a non-empty standard geometry: either byte order, each envelope."""
    return {
        _MAGIC + bytes([0, (indicator << 1) | order]): _HEADER + size
        for indicator, size in enumerate(_ENVELOPE_BYTES)
        for order in (0, 1)
    }


_STARTS = _starts()


def from_blobs(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries (None for NULL or empty) from GeoPackage geometry blobs."""
    starts = _STARTS
    try:
        # the common headers by a lookup; any other (empty, extended, invalid, cut short)
        # through wkb_of, which says what is wrong with it
        wkbs = [
            None if b is None else (b[s:] if (s := starts.get(b[:4])) else b"") or wkb_of(b)
            for b in blobs
        ]
        return np.asarray(shapely.from_wkb(wkbs), dtype=object)
    except shapely.errors.GEOSException as exc:
        raise GeometryBlobError(f"WKB does not parse: {exc}") from exc
