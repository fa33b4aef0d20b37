"""GeoPackage geometry blobs: every envelope size, empty and NULL geometries, bad blobs."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import shapely

from publish.ogc.geometry import GeometryBlobError, from_blobs, to_geojson, transform, wkb_of

SQUARE = shapely.Polygon([(110, 29), (110.1, 29), (110.1, 29.1), (110, 29.1)])


def blob(
    geom: shapely.Geometry, envelope: int, *, little: bool = True, empty: bool = False
) -> bytes:
    """A GeoPackage blob as the standard describes it (envelope: 0 none, 1 xy, 2 xyz, 3 xym,
    4 xyzm)."""
    flags = (envelope << 1) | (1 if little else 0) | (0x10 if empty else 0)
    order = "<" if little else ">"
    minx, miny, maxx, maxy = geom.bounds
    values = {0: (), 1: (minx, maxx, miny, maxy), 2: (minx, maxx, miny, maxy, 0, 0)}
    values[3] = values[2]
    values[4] = (*values[1], 0, 0, 0, 0)
    env = struct.pack(f"{order}{len(values[envelope])}d", *values[envelope])
    header = b"GP" + bytes([0, flags]) + struct.pack(f"{order}i", 4326)
    return header + env + shapely.to_wkb(geom)


@pytest.mark.parametrize("envelope", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("little", [True, False])
def test_every_envelope_size_parses(envelope: int, little: bool) -> None:
    (geom,) = from_blobs([blob(SQUARE, envelope, little=little)])
    assert geom.equals(SQUARE)


def test_null_and_empty_geometries_are_none() -> None:
    empty = blob(shapely.Point(), 0, empty=True)
    geoms = from_blobs([None, empty, blob(SQUARE, 1)])
    assert geoms[0] is None and geoms[1] is None and geoms[2].equals(SQUARE)
    out = to_geojson(geoms)
    assert out[:2] == [None, None]
    assert out[2] is not None and out[2]["type"] == "Polygon"


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


def test_transform_follows_the_target_crs_axis_order() -> None:
    from pyproj import CRS

    crs84 = CRS.from_user_input("OGC:CRS84").to_wkt()
    cgcs2000 = CRS.from_epsg(4490).to_wkt()
    gk111 = CRS.from_epsg(4546).to_wkt()
    point = np.array([shapely.Point(110.5, 29.2)], dtype=object)
    lat_lon = transform(point, crs84, cgcs2000)[0]
    assert (lat_lon.x, lat_lon.y) == pytest.approx((29.2, 110.5), abs=1e-9)
    north_east = transform(point, crs84, gk111)[0]
    assert north_east.x == pytest.approx(3_231_000, abs=2_000)  # northing first
    assert north_east.y == pytest.approx(451_400, abs=2_000)  # easting: 0.5° west of 111°E
