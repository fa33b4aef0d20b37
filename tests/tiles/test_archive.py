"""Tests for publish.tiles.archive: archives are built here with pmtiles' own Writer."""

from __future__ import annotations

import gc
import gzip
import hashlib
import math
import os
import random
import shutil
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, TileType, tileid_to_zxy, zxy_to_tileid
from pmtiles.writer import Writer

from publish.tiles.archive import (
    Archive,
    ArchiveError,
    TileStatus,
    lookup,
    tile_bounds,
    tile_etag,
    verify,
)
from publish.tiles.mvt import decode_tile

BOUNDS = (113.20, 22.90, 113.50, 23.20)  # a city, lon/lat
MINZOOM, MAXZOOM = 3, 10
META = {
    "name": "zoning",
    "vector_layers": [{"id": "zoning", "fields": {"code": "String"}, "minzoom": 3, "maxzoom": 10}],
}


def write_archive(
    path: Path,
    tiles: dict[int, bytes],
    *,
    metadata: dict[str, Any],
    bounds: tuple[float, float, float, float] = BOUNDS,
    compression: Compression = Compression.GZIP,
) -> None:
    header = {
        "tile_type": TileType.MVT,
        "tile_compression": compression,
        "min_lon_e7": round(bounds[0] * 1e7),
        "min_lat_e7": round(bounds[1] * 1e7),
        "max_lon_e7": round(bounds[2] * 1e7),
        "max_lat_e7": round(bounds[3] * 1e7),
        "center_zoom": MINZOOM,
        "center_lon_e7": round((bounds[0] + bounds[2]) / 2 * 1e7),
        "center_lat_e7": round((bounds[1] + bounds[3]) / 2 * 1e7),
    }
    with path.open("wb") as f:
        writer = Writer(f)
        for tile_id in sorted(tiles):
            writer.write_tile(tile_id, tiles[tile_id])
        writer.finalize(header, metadata)


def covering(z: int, bounds: tuple[float, float, float, float]) -> list[tuple[int, int, int]]:
    n = 1 << z

    def col(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def row(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    west, south, east, north = bounds
    return [
        (z, x, y)
        for x in range(col(west), col(east) + 1)
        for y in range(row(north), row(south) + 1)
    ]


def mvt(z: int, x: int, y: int) -> bytes:
    layer = {
        "name": "zoning",
        "features": [
            {
                "geometry": "POLYGON ((256 256, 3840 256, 3840 3840, 256 3840, 256 256))",
                "properties": {"code": "R2", "tile": f"{z}/{x}/{y}"},
            }
        ],
    }
    return gzip.compress(mapbox_vector_tile.encode([layer]), mtime=0)


@pytest.fixture
def city(tmp_path: Path) -> tuple[Path, dict[tuple[int, int, int], bytes], tuple[int, int, int]]:
    """Real gzip MVT tiles covering BOUNDS at zooms 3-10, one z10 tile left out."""
    coords = [t for z in range(MINZOOM, MAXZOOM + 1) for t in covering(z, BOUNDS)]
    missing = coords.pop()  # the last z10 tile: inside the bounds, but not written
    assert missing[0] == MAXZOOM and any(t[0] == MAXZOOM for t in coords)
    tiles = {t: mvt(*t) for t in coords}
    path = tmp_path / "zoning.pmtiles"
    write_archive(path, {zxy_to_tileid(*t): b for t, b in tiles.items()}, metadata=META)
    return path, tiles, missing


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, bytes]]:
    """~24,000 tiny tiles at z9 with random gaps, shared contents and runs: forces leaf dirs."""
    rng = random.Random(7)
    blobs = [bytes([i]) + rng.randbytes(rng.randrange(48)) for i in range(256)]
    tiles: dict[int, bytes] = {}
    tile_id = zxy_to_tileid(9, 0, 0) + 5
    while len(tiles) < 24000:
        blob = rng.choice(blobs)
        for _ in range(3 if rng.random() < 0.05 else 1):  # identical neighbours → run_length > 1
            tiles[tile_id] = blob
            tile_id += 1
        tile_id += rng.randrange(3)
    path = tmp_path_factory.mktemp("big") / "big.pmtiles"
    meta = {"vector_layers": [{"id": "blobs"}]}
    write_archive(
        path, tiles, metadata=meta, bounds=(-180, -85, 180, 85), compression=Compression.NONE
    )
    return path, tiles


# -- Archive -------------------------------------------------------------------------------


def test_properties_and_metadata(city: Any) -> None:
    path, tiles, _ = city
    with Archive(path) as archive:
        assert (archive.minzoom, archive.maxzoom) == (MINZOOM, MAXZOOM)
        assert archive.bounds == pytest.approx(BOUNDS, abs=1e-7)
        assert archive.tile_compression == "gzip"
        assert archive.tile_type == "mvt"
        assert archive.media_type == "application/vnd.mapbox-vector-tile"
        assert archive.metadata() == META
        archive.metadata()["name"] = "changed"  # callers get their own copy
        assert archive.metadata() == META
        assert archive.header["root_offset"] == 127
        assert archive.tile_count() == len(tiles)


def test_get_returns_the_written_bytes_and_they_decode(city: Any) -> None:
    path, tiles, missing = city
    with Archive(path) as archive:
        for (z, x, y), data in tiles.items():
            assert archive.get(z, x, y) == data
        assert archive.get(*missing) is None
        assert archive.get(MAXZOOM + 1, 0, 0) is None
        with pytest.raises(ValueError, match="not a tile"):
            archive.get(2, 4, 0)
        z, x, y = next(iter(tiles))
        layers = decode_tile(archive.get(z, x, y) or b"", archive.tile_compression)
        assert list(layers) == ["zoning"]
        (feature,) = layers["zoning"]["features"]
        assert feature["properties"] == {"code": "R2", "tile": f"{z}/{x}/{y}"}
        assert feature["geometry"]["type"] == "Polygon"


def test_iter_tiles_yields_every_tile(city: Any) -> None:
    path, tiles, _ = city
    with Archive(path) as archive:
        assert {(z, x, y): b for z, x, y, b in archive.iter_tiles()} == tiles


def test_identity_is_stable_and_follows_mtime(city: Any) -> None:
    path, _, _ = city
    with Archive(path) as a, Archive(path) as b:
        assert a.identity == b.identity and len(a.identity) == 16
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with Archive(path) as c:
        assert c.identity != a.identity


def test_close_and_collection(city: Any) -> None:
    path, tiles, _ = city
    archive = Archive(path)
    archive.close()
    assert archive.closed
    with pytest.raises(ValueError, match="closed"):
        archive.get(*next(iter(tiles)))
    archive = Archive(path)
    archive.get(*next(iter(tiles)))
    ref = weakref.ref(archive)
    del archive
    gc.collect()
    assert ref() is None  # no reference cycle keeps the descriptor open


def test_not_pmtiles(tmp_path: Path) -> None:
    path = tmp_path / "x.pmtiles"
    path.write_bytes(b"GIF89a" + bytes(200))
    with pytest.raises(ArchiveError, match="magic"):
        Archive(path)


def test_leaf_directories(big: Any) -> None:
    path, tiles = big
    reference = Reader(MmapSource(path.open("rb")))
    with Archive(path, leaf_cache_size=2) as archive:
        assert archive.header["leaf_directory_length"] > 0  # the case under test
        assert archive.header["tile_entries_count"] < len(tiles)  # runs were stored
        assert archive.tile_count() == len(tiles) == archive.header["addressed_tiles_count"]
        for tile_id, data in tiles.items():
            assert archive.get(*tileid_to_zxy(tile_id)) == data
        rng = random.Random(1)
        sample = rng.sample(sorted(tiles), 300)
        for tile_id in sample:  # random order with two cached leaves: evictions galore
            assert archive.get(*tileid_to_zxy(tile_id)) == tiles[tile_id]
        for tile_id in sample[:50]:
            assert archive.get(*tileid_to_zxy(tile_id)) == reference.get(*tileid_to_zxy(tile_id))
        first, last = min(tiles), max(tiles)
        absent = [first - 1, last + 1, *(t + 1 for t in sample if t + 1 not in tiles)]
        for tile_id in absent[:200]:
            assert archive.get(*tileid_to_zxy(tile_id)) is None
        assert archive.cache_info()["leaves"]["currsize"] <= 2
        walked = [(zxy_to_tileid(z, x, y), b) for z, x, y, b in archive.iter_tiles()]
        assert walked == sorted(tiles.items())


def test_threads_share_an_archive(big: Any) -> None:
    path, tiles = big
    ids = random.Random(2).sample(sorted(tiles), 400)
    with Archive(path, leaf_cache_size=3, lookup_cache_size=64) as archive:

        def check(chunk: list[int]) -> bool:
            return all(archive.get(*tileid_to_zxy(t)) == tiles[t] for t in chunk)

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(check, [ids[i::8] for i in range(8)]))


# -- lookup --------------------------------------------------------------------------------


def test_lookup_statuses(city: Any) -> None:
    path, tiles, missing = city
    with Archive(path) as archive:
        (z, x, y), data = next(iter(tiles.items()))
        found = lookup(archive, z, x, y)
        assert found.status is TileStatus.OK and found.status == 200
        assert found.data == data
        assert found.etag == hashlib.blake2b(data, digest_size=8).hexdigest() == tile_etag(data)

        empty = lookup(archive, *missing)
        assert empty.status is TileStatus.EMPTY and empty.status == 204
        assert empty.data is None and empty.etag is None

        z10 = [t for t in tiles if t[0] == MAXZOOM]
        east = max(t[1] for t in z10) + 2  # two columns east of the data: outside the bounds
        assert tile_bounds(MAXZOOM, east, z10[0][2])[0] > BOUNDS[2]
        for z, x, y in [
            (MINZOOM - 1, 0, 0),  # below the zoom range
            (MAXZOOM + 1, *z10[0][1:]),  # above it
            (MAXZOOM, 0, 0),  # far outside the bounds
            (MAXZOOM, east, z10[0][2]),  # just outside them
            (MAXZOOM, 1 << MAXZOOM, 0),  # not a tile
            (MAXZOOM, -1, 0),
            (-1, 0, 0),
            (40, 0, 0),
        ]:
            assert lookup(archive, z, x, y).status is TileStatus.NOT_FOUND, (z, x, y)


def test_etags_are_stable_and_differ_between_tiles(city: Any) -> None:
    path, tiles, _ = city
    a, b = list(tiles)[:2]
    with Archive(path) as archive:
        etag_a = lookup(archive, *a).etag
        assert lookup(archive, *a).etag == etag_a  # from the cache
        assert lookup(archive, *b).etag != etag_a
    with Archive(path) as reopened:
        assert lookup(reopened, *a).etag == etag_a


def test_tile_bounds() -> None:
    assert tile_bounds(0, 0, 0) == pytest.approx((-180, -85.0511287798, 180, 85.0511287798))
    assert tile_bounds(1, 1, 1) == pytest.approx((0, -85.0511287798, 180, 0), abs=1e-9)


# -- verify --------------------------------------------------------------------------------


def test_verify_accepts_good_archives(city: Any, big: Any) -> None:
    assert verify(city[0]) == []
    assert verify(big[0]) == []


def test_verify_reports_truncation(city: Any, tmp_path: Path) -> None:
    path, tiles, _ = city
    cut = tmp_path / "cut.pmtiles"
    shutil.copy(path, cut)
    with cut.open("r+b") as f:
        f.truncate(path.stat().st_size - 10)
    problems = verify(cut)
    assert any("tile data" in p and "past the end" in p for p in problems), problems
    last = max(tiles, key=lambda t: zxy_to_tileid(*t))
    with Archive(cut) as archive, pytest.raises(ArchiveError, match="short read"):
        archive.get(*last)
    with cut.open("r+b") as f:
        f.truncate(60)
    assert verify(cut) == ["file is 60 bytes, shorter than the 127-byte header"]
    assert verify(tmp_path / "absent.pmtiles")[0].startswith("cannot open")


@pytest.mark.parametrize(
    ("offset", "value", "expected"),
    [
        (0, b"PMTilez", "magic"),
        (7, b"\x02", "version"),
        (101, bytes([MAXZOOM + 1]), "header zooms 3-11 but tiles exist at zooms 3-10"),
        (72, (999).to_bytes(8, "little"), "999 addressed tiles"),
    ],
)
def test_verify_reports_bad_headers(city: Any, offset: int, value: bytes, expected: str) -> None:
    path = city[0]
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(value)
    assert any(expected in p for p in verify(path)), verify(path)


def test_verify_reports_bad_metadata_and_bounds(tmp_path: Path) -> None:
    tiles = {zxy_to_tileid(3, 6, 3): mvt(3, 6, 3)}
    no_layers = tmp_path / "no_layers.pmtiles"
    write_archive(no_layers, tiles, metadata={"name": "x"})
    assert [p for p in verify(no_layers) if "vector_layers" in p]
    bad_bounds = tmp_path / "bad_bounds.pmtiles"
    write_archive(bad_bounds, tiles, metadata=META, bounds=(113.5, 22.9, 113.2, 23.2))
    assert [p for p in verify(bad_bounds) if "bounds" in p]
    wrong_zoom = tmp_path / "wrong_zoom.pmtiles"
    write_archive(wrong_zoom, tiles, metadata={**META, "minzoom": "0", "maxzoom": "3"})
    assert verify(wrong_zoom) == ["metadata minzoom 0 differs from the header's 3"]
