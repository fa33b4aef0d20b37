"""GeoPackage geometry blobs: every envelope size, empty and NULL geometries, bad blobs."""

from __future__ import annotations

import pytest
import shapely

from publish.gpkg.errors import GeometryBlobError
from publish.gpkg.geometry import from_blobs, wkb_of
from tests.gpkg.helpers import SQUARE, blob


@pytest.mark.parametrize("envelope", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("little", [True, False])
def test_every_envelope_size_parses(envelope: int, little: bool) -> None:
    (geom,) = from_blobs([blob(SQUARE, envelope, little=little)])
    assert geom.equals(SQUARE)


@pytest.mark.parametrize(
    "bad",
    [b"XX\x00\x01" + bytes(4) + shapely.to_wkb(SQUARE), b"GP\x00", b"GP\x00\x22" + bytes(4)],
    ids=["magic", "short", "extended"],
)
def test_bad_blobs_are_refused(bad: bytes) -> None:
    with pytest.raises(GeometryBlobError):
        wkb_of(bad)


def test_garbage_wkb_is_refused() -> None:
    with pytest.raises(GeometryBlobError):
        from_blobs([b"GP\x00\x01" + bytes(4) + b"\x01\x03\x00"])
