"""A small, fast, HTTP-agnostic reader for PMTiles v3 archives (as written by tippecanoe).

The `pmtiles` package does the format; this module adds what a server needs on its hot path:
the header and root directory are parsed once, leaf directories and tile locations sit in bounded
LRU caches, and every read is an `os.pread` on one descriptor kept open, so threads can share an
`Archive`. `lookup` turns a request into a deliberate status (OK / EMPTY / NOT_FOUND) plus an ETag;
`verify` lists what is wrong with an archive the build just wrote. (`publish.filecache` shares
archives by path and reopens one when its file is replaced.)

Directories and metadata must be gzip-compressed (the only internal compression `pmtiles`
reads, and what tippecanoe writes); tiles may use any compression, they are returned as stored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import weakref
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from pmtiles.tile import (
    Compression,
    HeaderDict,
    TileType,
    deserialize_directory,
    deserialize_header,
    tileid_to_zxy,
    zxy_to_tileid,
)

from publish.errors import PublishError
from publish.tiles.tilejson import vector_layers

__all__ = [
    "Archive",
    "ArchiveError",
    "TileResult",
    "TileStatus",
    "lookup",
    "tile_bounds",
    "tile_etag",
    "verify",
]

HEADER_SIZE = 127
_ROOT_LIMIT = 16384  # the spec keeps header + root directory within the first 16 KiB
_MAX_DEPTH = 4  # root + up to three levels of leaf directories
_ENCODINGS = {Compression.GZIP: "gzip", Compression.BROTLI: "br", Compression.ZSTD: "zstd"}
_MEDIA_TYPES = {
    TileType.MVT: "application/vnd.mapbox-vector-tile",
    TileType.PNG: "image/png",
    TileType.JPEG: "image/jpeg",
    TileType.WEBP: "image/webp",
    TileType.AVIF: "image/avif",
    TileType.MLT: "application/vnd.maplibre-vector-tile",
}


class ArchiveError(PublishError):
    """A PMTiles archive cannot be opened or read (not PMTiles, unsupported, truncated)."""


class _Dir(NamedTuple):
    """One directory as four parallel arrays (compact, and `bisect` works on `ids`)."""

    ids: array[int]
    offsets: array[int]
    lengths: array[int]
    runs: array[int]


def _parse_dir(buf: bytes) -> _Dir:
    try:
        entries = deserialize_directory(buf)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ArchiveError(f"directory does not parse: {exc}") from exc
    return _Dir(
        array("Q", [e.tile_id for e in entries]),
        array("Q", [e.offset for e in entries]),
        array("Q", [e.length for e in entries]),
        array("Q", [e.run_length for e in entries]),
    )


def _pread(fd: int, offset: int, length: int) -> bytes:
    data = os.pread(fd, length, offset)
    if len(data) != length:
        raise ArchiveError(f"short read: {len(data)} of {length} bytes at {offset} (truncated?)")
    return data


def _parse_header(buf: bytes) -> HeaderDict:
    if len(buf) < HEADER_SIZE:
        raise ArchiveError(f"file is {len(buf)} bytes, shorter than the {HEADER_SIZE}-byte header")
    if buf[:7] != b"PMTiles":
        raise ArchiveError("not a PMTiles archive (magic number missing)")
    if buf[7] != 3:
        raise ArchiveError(f"unsupported PMTiles spec version {buf[7]} (only 3 is read)")
    try:
        return deserialize_header(buf[:HEADER_SIZE])
    except ValueError as exc:  # an enum byte out of range
        raise ArchiveError(f"header does not parse: {exc}") from exc


def _walk(
    read_leaf: Callable[[int, int], _Dir], d: _Dir, depth: int = 0
) -> Iterator[tuple[int, int, int, int]]:
    """Yield (tile_id, offset, length, run_length) for every tile entry, in tile-id order."""
    if depth >= _MAX_DEPTH:
        raise ArchiveError("leaf directories nested deeper than the spec allows")
    for tile_id, offset, length, run in zip(d.ids, d.offsets, d.lengths, d.runs, strict=True):
        if run:
            yield tile_id, offset, length, run
        else:
            yield from _walk(read_leaf, read_leaf(offset, length), depth + 1)


def _bounds(h: HeaderDict) -> tuple[float, float, float, float]:
    return (
        h["min_lon_e7"] / 1e7,
        h["min_lat_e7"] / 1e7,
        h["max_lon_e7"] / 1e7,
        h["max_lat_e7"] / 1e7,
    )


def _check_zxy(z: int, x: int, y: int) -> bool:
    return 0 <= z <= 31 and 0 <= x < (1 << z) and 0 <= y < (1 << z)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The (west, south, east, north) lon/lat box of a Web Mercator XYZ tile."""
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def tile_etag(data: bytes) -> str:
    """The ETag of a tile's stored bytes: blake2b, 16 hex digits (the server adds the quotes)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class Archive:
    """A PMTiles v3 archive open for reading; safe to share between threads.

    `leaf_cache_size` bounds the parsed leaf directories kept (32 bytes per entry, 128 KiB for a
    4096-entry leaf; parsing one costs milliseconds, so keep it above the archive's leaf count);
    `lookup_cache_size` bounds the remembered (z, x, y) → location answers and tile ETags.
    The descriptor is closed by `close()`, the context manager, or when the object is collected.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        leaf_cache_size: int = 64,
        lookup_cache_size: int = 16384,
    ) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_RDONLY)
        self._finalizer = weakref.finalize(self, os.close, fd)
        st = os.fstat(fd)
        self.identity = hashlib.blake2b(
            f"{os.path.abspath(self.path)}\0{st.st_mtime_ns}\0{st.st_size}".encode(), digest_size=8
        ).hexdigest()
        try:
            h = _parse_header(os.pread(fd, HEADER_SIZE, 0))
            if h["internal_compression"] is not Compression.GZIP:
                raise ArchiveError(f"unsupported internal compression {h['internal_compression']}")
            root = _parse_dir(_pread(fd, h["root_offset"], h["root_length"]))
        except BaseException:
            self._finalizer()
            raise
        self._fd = fd
        self._header = h
        self._metadata: bytes | None = None
        self._vector_layers: Mapping[str, Mapping[str, Any]] | None = None
        self._labels: Mapping[str, str] | None = None
        self._tile_count: int | None = None
        self._root = root
        self.minzoom: int = h["min_zoom"]
        self.maxzoom: int = h["max_zoom"]
        self.bounds: tuple[float, float, float, float] = _bounds(h)
        self.center: tuple[float, float, int] = (
            h["center_lon_e7"] / 1e7,
            h["center_lat_e7"] / 1e7,
            h["center_zoom"],
        )
        self.tile_compression: str | None = _ENCODINGS.get(h["tile_compression"])
        self.tile_type: str | None = (
            None if h["tile_type"] is TileType.UNKNOWN else h["tile_type"].name.lower()
        )
        self.media_type: str = _MEDIA_TYPES.get(h["tile_type"], "application/octet-stream")

        # The cached callables close over plain values, not over `self`: no reference cycle, so
        # the finalizer closes the descriptor as soon as the last user drops the archive.
        leaf_base, data_base = h["leaf_directory_offset"], h["tile_data_offset"]

        @lru_cache(maxsize=leaf_cache_size)
        def read_leaf(offset: int, length: int) -> _Dir:
            return _parse_dir(_pread(fd, leaf_base + offset, length))

        @lru_cache(maxsize=lookup_cache_size)
        def locate(z: int, x: int, y: int) -> tuple[int, int] | None:
            tile_id = zxy_to_tileid(z, x, y)
            d = root
            for _ in range(_MAX_DEPTH):
                i = bisect_right(d.ids, tile_id) - 1
                if i < 0:
                    return None
                run = d.runs[i]
                if run == 0:  # a leaf directory covers this tile id, if anything does
                    d = read_leaf(d.offsets[i], d.lengths[i])
                elif tile_id - d.ids[i] < run:
                    return data_base + d.offsets[i], d.lengths[i]
                else:
                    return None
            return None

        @lru_cache(maxsize=lookup_cache_size)
        def etag_at(offset: int, length: int) -> str:
            return tile_etag(_pread(fd, offset, length))

        self._read_leaf = read_leaf
        self._locate = locate
        self._etag_at = etag_at

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Close the descriptor. Only call it when no other thread is still reading."""
        self._finalizer()
        for cached in (self._read_leaf, self._locate, self._etag_at):
            cached.cache_clear()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"z{self.minzoom}-{self.maxzoom}"
        return f"<Archive {str(self.path)!r} {state} {self.identity}>"

    def _check_open(self) -> None:
        if not self._finalizer.alive:
            raise ValueError(f"archive {self.path} is closed")

    # -- header and metadata -----------------------------------------------------------------

    @property
    def header(self) -> HeaderDict:
        """The header as `pmtiles` parses it (a copy)."""
        return self._header.copy()

    def metadata(self) -> dict[str, Any]:
        """The JSON metadata (read and decompressed once; parsed afresh, so callers may mutate)."""
        if self._metadata is None:
            self._check_open()
            h = self._header
            raw = _pread(self._fd, h["metadata_offset"], h["metadata_length"])
            self._metadata = gzip.decompress(raw)
        value = json.loads(self._metadata)
        if not isinstance(value, dict):
            raise ArchiveError("metadata is not a JSON object")
        return value

    def labels(self) -> Mapping[str, str]:
        """The metadata's `name`, `description` and `attribution` (parsed once, shared: read
        only): what a TileJSON names, without parsing the whole metadata per document."""
        if self._labels is None:
            meta = self.metadata()
            self._labels = {
                key: str(meta[key])
                for key in ("name", "description", "attribution")
                if meta.get(key)
            }
        return self._labels

    def vector_layers(self) -> Mapping[str, Mapping[str, Any]]:
        """The metadata's `vector_layers` by id, in order (parsed once, shared: read only)."""
        if self._vector_layers is None:
            self._vector_layers = {la["id"]: la for la in vector_layers(self.metadata())}
        return self._vector_layers

    def cache_info(self) -> dict[str, Any]:
        """Hit/miss counters of the three caches, for monitoring."""
        return {
            "leaves": self._read_leaf.cache_info()._asdict(),
            "locations": self._locate.cache_info()._asdict(),
            "etags": self._etag_at.cache_info()._asdict(),
        }

    # -- tiles -------------------------------------------------------------------------------

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's stored bytes (still compressed, see `tile_compression`), or None.

        Raises ValueError for coordinates that are not a tile (x or y outside 0..2^z-1).
        """
        if not _check_zxy(z, x, y):
            raise ValueError(f"not a tile: {z}/{x}/{y}")
        self._check_open()
        if z < self.minzoom or z > self.maxzoom:
            return None
        loc = self._locate(z, x, y)
        return None if loc is None else _pread(self._fd, loc[0], loc[1])

    def iter_entries(self) -> Iterator[tuple[int, bytes]]:
        """Yield (tile id, bytes) for every addressed tile, in tile-id order (runs expanded).

        Leaf directories are read directly, so a full walk does not evict the serving caches.
        """
        self._check_open()
        fd, h = self._fd, self._header

        def read_leaf(offset: int, length: int) -> _Dir:
            return _parse_dir(_pread(fd, h["leaf_directory_offset"] + offset, length))

        for tile_id, offset, length, run in _walk(read_leaf, self._root):
            data = _pread(fd, h["tile_data_offset"] + offset, length)
            for i in range(run):
                yield tile_id + i, data

    def iter_tiles(self) -> Iterator[tuple[int, int, int, bytes]]:
        """Yield (z, x, y, bytes) for every addressed tile, in tile-id order (runs expanded)."""
        for tile_id, data in self.iter_entries():
            yield (*tileid_to_zxy(tile_id), data)

    def tile_count(self) -> int:
        """The number of addressed tiles, counted from the directories (cached)."""
        if self._tile_count is None:
            self._check_open()
            fd, base = self._fd, self._header["leaf_directory_offset"]
            self._tile_count = sum(
                e[3] for e in _walk(lambda o, n: _parse_dir(_pread(fd, base + o, n)), self._root)
            )
        return self._tile_count


class TileStatus(IntEnum):
    """What a tile request deliberately answers; the values are the HTTP codes a server uses."""

    OK = 200
    EMPTY = 204  # inside the archive's zoom range and bounds, but no tile: nothing to draw
    NOT_FOUND = 404  # outside the zoom range or the bounds, or not a tile at all


class TileResult(NamedTuple):
    """The answer to a tile request (a NamedTuple: cheaper to build than a frozen dataclass)."""

    status: TileStatus
    data: bytes | None = None
    etag: str | None = None


_EMPTY = TileResult(TileStatus.EMPTY)
_NOT_FOUND = TileResult(TileStatus.NOT_FOUND)


def lookup(archive: Archive, z: int, x: int, y: int) -> TileResult:
    """Answer a tile request. A stored tile is always OK (even if it pokes past the bounds,
    e.g. through tippecanoe's buffer); a missing one is EMPTY inside the bounds, else NOT_FOUND.
    """
    if not _check_zxy(z, x, y) or z < archive.minzoom or z > archive.maxzoom:
        return _NOT_FOUND
    archive._check_open()
    loc = archive._locate(z, x, y)
    if loc is not None:
        return TileResult(TileStatus.OK, _pread(archive._fd, *loc), archive._etag_at(*loc))
    west, south, east, north = tile_bounds(z, x, y)
    min_lon, min_lat, max_lon, max_lat = archive.bounds
    if west <= max_lon and east >= min_lon and south <= max_lat and north >= min_lat:
        return _EMPTY
    return _NOT_FOUND


def verify(path: str | os.PathLike[str]) -> list[str]:
    """Everything wrong with the archive at `path`, as readable sentences; [] when it is sound."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        return [f"cannot open: {exc}"]
    try:
        return _verify(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def _verify(fd: int, size: int) -> list[str]:
    try:
        h = _parse_header(os.pread(fd, HEADER_SIZE, 0))
    except ArchiveError as exc:
        return [str(exc)]
    problems: list[str] = []
    for name, start, length in (
        ("root", h["root_offset"], h["root_length"]),
        ("metadata", h["metadata_offset"], h["metadata_length"]),
        ("leaf directory", h["leaf_directory_offset"], h["leaf_directory_length"]),
        ("tile data", h["tile_data_offset"], h["tile_data_length"]),
    ):
        if start + length > size:
            problems.append(
                f"{name} section [{start}, {start + length}) runs past the end of file ({size} B)"
            )
    if h["root_offset"] + h["root_length"] > _ROOT_LIMIT:
        problems.append("root directory does not end within the first 16 KiB")
    if h["tile_type"] is TileType.UNKNOWN:
        problems.append("tile type is unknown")
    if h["tile_compression"] is Compression.UNKNOWN:
        problems.append("tile compression is unknown")
    if h["internal_compression"] is not Compression.GZIP:
        return [*problems, f"unsupported internal compression {h['internal_compression'].name}"]

    problems += _verify_entries(fd, h)

    lon0, lat0, lon1, lat1 = _bounds(h)
    if not (-180 <= lon0 < lon1 <= 180 and -90 <= lat0 < lat1 <= 90):
        problems.append(f"bounds {lon0},{lat0},{lon1},{lat1} are not a valid lon/lat box")

    try:
        raw = _pread(fd, h["metadata_offset"], h["metadata_length"])
        meta = json.loads(gzip.decompress(raw))
    except (ArchiveError, OSError, EOFError, zlib.error, ValueError) as exc:
        return [*problems, f"metadata does not parse: {exc}"]
    if not isinstance(meta, dict):
        return [*problems, "metadata is not a JSON object"]
    layers = meta.get("vector_layers")
    if h["tile_type"] is TileType.MVT and not (
        isinstance(layers, list) and layers and len(vector_layers(meta)) == len(layers)
    ):
        problems.append("metadata has no vector_layers list (with an id per layer)")
    for key in ("minzoom", "maxzoom"):
        value, want = meta.get(key), h["min_zoom" if key == "minzoom" else "max_zoom"]
        if value is not None and str(value) != str(want):
            problems.append(f"metadata {key} {value} differs from the header's {want}")
    return problems


def _verify_entries(fd: int, h: HeaderDict) -> list[str]:
    leaf_base, leaf_len = h["leaf_directory_offset"], h["leaf_directory_length"]

    def read_leaf(offset: int, length: int) -> _Dir:
        if offset + length > leaf_len:
            raise ArchiveError(f"leaf directory [{offset}, {offset + length}) outside the section")
        return _parse_dir(_pread(fd, leaf_base + offset, length))

    addressed = entries = outside = 0
    first = last = next_id = -1
    try:
        for tile_id, offset, length, run in _walk(
            read_leaf, _parse_dir(_pread(fd, h["root_offset"], h["root_length"]))
        ):
            if tile_id < next_id:
                return [f"tile entries overlap or are out of order at tile id {tile_id}"]
            first = tile_id if first < 0 else first
            last, next_id = tile_id + run - 1, tile_id + run
            entries, addressed = entries + 1, addressed + run
            outside += offset + length > h["tile_data_length"]
    except ArchiveError as exc:
        return [str(exc)]
    problems = []
    if outside:
        problems.append(f"{outside} tile entries point past the end of the tile data")
    if not addressed:
        return [*problems, "archive holds no tiles"]
    for label, declared, counted in (
        ("addressed tiles", h["addressed_tiles_count"], addressed),
        ("tile entries", h["tile_entries_count"], entries),
    ):
        if declared and declared != counted:  # 0 means "not counted" in the spec
            problems.append(f"header says {declared} {label} but the directories hold {counted}")
    lo, hi = tileid_to_zxy(first)[0], tileid_to_zxy(last)[0]
    # Tiles may start above the header's minzoom (tippecanoe writes -Z even when a layer's
    # features are too small to show there), but none may lie outside the declared zooms.
    if lo < h["min_zoom"] or hi != h["max_zoom"]:
        problems.append(
            f"header zooms {h['min_zoom']}-{h['max_zoom']} but tiles exist at zooms {lo}-{hi}"
        )
    return problems
