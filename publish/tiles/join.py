"""Join single-layer PMTiles archives into multi-layer archives, tile by tile.

Each layer is tiled on its own (so an unchanged layer is never tiled again, and public and
internal archives share the work); an audience's archive is then the join of its layers' archives.
An MVT tile is a protobuf message whose only top-level field, `layers`, repeats: the uncompressed
bytes of tiles holding different layers concatenate into one valid tile. This is what tile-join
does; the PyPI wheel's tile-join crashes on these machines (see ../shared/STACK.md).

Several outputs (one per audience, each a subset of the parts) are written in one walk over the
parts: a tile is read once, and when two outputs hold the same parts at a tile (an internal tile
where no internal-only layer has data is the public tile) it is compressed once. Tiles present in
only one part are copied as stored. The archives are written by the `pmtiles` package's Writer
(which also deduplicates identical tiles) beside their final paths and renamed into place when all
are complete and verified.
"""

from __future__ import annotations

import gzip
import heapq
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pmtiles.tile import Compression, TileType
from pmtiles.writer import Writer

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify

__all__ = ["JoinOutput", "JoinStats", "archive_header", "join_archives", "join_many"]

# tippecanoe's default limit for one compressed tile; a joined tile above it still works in
# MapLibre, but the build reports it.
TILE_SIZE_LIMIT = 500_000


@dataclass(frozen=True)
class JoinOutput:
    path: Path
    parts: tuple[int, ...]  # indices into the parts given to join_many
    name: str
    description: str | None = None
    attribution: str | None = None


@dataclass(frozen=True)
class JoinStats:
    tiles: int
    joined: int  # tiles that combined two or more layers
    largest_tile: int  # bytes, compressed
    over_limit: int  # tiles above TILE_SIZE_LIMIT


class _Out:
    def __init__(self, spec: JoinOutput, tmp: Path, f: BinaryIO) -> None:
        self.spec = spec
        self.members = frozenset(spec.parts)
        self.tmp = tmp
        self.file = f
        self.writer = Writer(f)
        self.tiles = self.joined = self.largest = self.over = 0

    def write(self, tile_id: int, data: bytes, joined: bool) -> None:
        self.writer.write_tile(tile_id, data)
        self.tiles += 1
        self.joined += joined
        self.largest = max(self.largest, len(data))
        self.over += len(data) > TILE_SIZE_LIMIT


def _entries(archive: Archive, index: int) -> Iterator[tuple[int, int, bytes]]:
    for tile_id, data in archive.iter_entries():
        yield tile_id, index, data


def _merged_metadata(archives: Sequence[Archive], name: str, extra: dict[str, Any]) -> dict:
    parts = [a.metadata() for a in archives]
    vector_layers: list[Any] = []
    stats: list[Any] = []
    for archive, meta in zip(archives, parts, strict=True):
        vector_layers.extend(archive.vector_layers().values())
        stats.extend((meta.get("tilestats") or {}).get("layers") or [])
    metadata: dict[str, Any] = {
        "name": name,
        "format": "pbf",
        "type": "overlay",
        "vector_layers": vector_layers,
        "tilestats": {"layerCount": len(stats), "layers": stats},
    }
    generator = next((m["generator"] for m in parts if "generator" in m), None)
    if generator:
        metadata["generator"] = generator
    metadata.update({k: v for k, v in extra.items() if v is not None})
    return metadata


def archive_header(archives: Sequence[Archive]) -> dict[str, Any]:
    """The PMTiles header of an archive holding the tiles of `archives` (gzip MVT): their
    joint bounds, centred, at the highest centre zoom."""
    west = min(a.bounds[0] for a in archives)
    south = min(a.bounds[1] for a in archives)
    east = max(a.bounds[2] for a in archives)
    north = max(a.bounds[3] for a in archives)
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": round(west * 1e7),
        "min_lat_e7": round(south * 1e7),
        "max_lon_e7": round(east * 1e7),
        "max_lat_e7": round(north * 1e7),
        "center_zoom": max(a.center[2] for a in archives),
        "center_lon_e7": round((west + east) / 2 * 1e7),
        "center_lat_e7": round((south + north) / 2 * 1e7),
    }


def _check_parts(archives: Sequence[Archive]) -> None:
    seen: dict[str, Path] = {}
    for archive in archives:
        if archive.tile_compression != "gzip" or archive.tile_type != "mvt":
            raise BuildError(
                f"{archive.path.name}: only gzip-compressed MVT archives can be joined "
                f"(got {archive.tile_compression or 'no compression'}, {archive.tile_type})"
            )
        for lid in archive.vector_layers():
            if lid in seen:
                raise BuildError(f"layer {lid} is in both {seen[lid].name} and {archive.path.name}")
            seen[lid] = archive.path


def join_many(parts: Sequence[Path], outputs: Sequence[JoinOutput]) -> dict[Path, JoinStats]:
    """Write every output archive (each joining its subset of `parts`) in one walk.

    Raises BuildError when a part cannot be read, two parts hold the same layer, parts use a
    tile compression other than gzip (tippecanoe's), or an output would be empty or unsound.
    Nothing is renamed into place unless every output is complete and verified.
    """
    if not outputs:
        raise BuildError("no archives to write")
    for spec in outputs:
        if not spec.parts or not all(0 <= i < len(parts) for i in spec.parts):
            raise BuildError(f"{spec.path.name}: no layers to join")
    with ExitStack() as stack:
        archives = [stack.enter_context(Archive(p)) for p in parts]
        for spec in outputs:  # a layer id once per output (two outputs may share one)
            _check_parts([archives[i] for i in sorted(set(spec.parts))])
        outs: list[_Out] = []
        try:
            for spec in outputs:
                tmp = spec.path.with_name(f".{spec.path.stem}.{os.getpid()}.join.pmtiles")
                outs.append(_Out(spec, tmp, stack.enter_context(open(tmp, "wb"))))
            streams = [_entries(a, i) for i, a in enumerate(archives)]
            pending: list[tuple[int, bytes]] = []
            current = -1

            def flush() -> None:
                if not pending:
                    return
                made: dict[tuple[int, ...], bytes] = {}
                for out in outs:
                    chosen = [(i, d) for i, d in pending if i in out.members]
                    if not chosen:
                        continue
                    key = tuple(i for i, _ in chosen)
                    if key not in made:
                        if len(chosen) == 1:
                            made[key] = chosen[0][1]
                        else:
                            raw = b"".join(gzip.decompress(d) for _, d in chosen)
                            made[key] = gzip.compress(raw, compresslevel=6, mtime=0)
                    out.write(current, made[key], len(chosen) > 1)
                pending.clear()

            for tile_id, index, data in heapq.merge(*streams, key=lambda e: (e[0], e[1])):
                if tile_id != current:
                    flush()
                    current = tile_id
                pending.append((index, data))
            flush()
            for out in outs:
                if out.tiles == 0:
                    raise BuildError(f"{out.spec.path.name}: the parts hold no tiles")
                mine = [archives[i] for i in sorted(out.members)]
                extra = {"description": out.spec.description, "attribution": out.spec.attribution}
                out.writer.finalize(
                    archive_header(mine), _merged_metadata(mine, out.spec.name, extra)
                )
                out.file.close()
                problems = verify(out.tmp)
                if problems:
                    raise BuildError(
                        f"joined archive {out.spec.path.name} is unsound: " + "; ".join(problems)
                    )
            for out in outs:
                os.replace(out.tmp, out.spec.path)
            return {
                out.spec.path: JoinStats(out.tiles, out.joined, out.largest, out.over)
                for out in outs
            }
        finally:
            for out in outs:
                out.tmp.unlink(missing_ok=True)


def join_archives(
    parts: Sequence[Path],
    out_path: Path,
    *,
    name: str,
    description: str | None = None,
    attribution: str | None = None,
) -> JoinStats:
    """Write the archive holding every layer of `parts` (each one or more distinct layers)."""
    if not parts:
        raise BuildError(f"{Path(out_path).name}: no layers to join")
    spec = JoinOutput(Path(out_path), tuple(range(len(parts))), name, description, attribution)
    return join_many(parts, [spec])[spec.path]
