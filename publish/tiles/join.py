"""Join single-layer PMTiles archives into one multi-layer archive, tile by tile.

Each layer is tiled on its own (so an unchanged layer is never tiled again, and public and
internal archives share the work); an audience's archive is then the join of its layers' archives.
An MVT tile is a protobuf message whose only top-level field, `layers`, repeats: the uncompressed
bytes of tiles holding different layers concatenate into one valid tile. This is what tile-join
does; the PyPI wheel's tile-join crashes on these machines (see ../shared/STACK.md).

Tiles present in only one part are copied as stored; the others are decompressed, concatenated
and gzip-compressed again. The archive is written by the `pmtiles` package's Writer (which also
deduplicates identical tiles) beside `out_path` and renamed into place when complete.
"""

from __future__ import annotations

import gzip
import heapq
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtiles.tile import Compression, TileType
from pmtiles.writer import Writer

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify

__all__ = ["JoinStats", "join_archives"]

# tippecanoe's default limit for one compressed tile; a joined tile above it still works in
# MapLibre, but the build reports it.
TILE_SIZE_LIMIT = 500_000


@dataclass(frozen=True)
class JoinStats:
    tiles: int
    joined: int  # tiles that combined two or more layers
    largest_tile: int  # bytes, compressed
    over_limit: int  # tiles above TILE_SIZE_LIMIT


def _entries(archive: Archive, index: int) -> Iterator[tuple[int, int, bytes]]:
    for tile_id, data in archive.iter_entries():
        yield tile_id, index, data


def _merged_metadata(archives: Sequence[Archive], name: str, extra: dict[str, Any]) -> dict:
    parts = [a.metadata() for a in archives]
    vector_layers: list[Any] = []
    stats: list[Any] = []
    for meta in parts:
        vector_layers.extend(meta.get("vector_layers") or [])
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


def join_archives(
    parts: Sequence[Path],
    out_path: Path,
    *,
    name: str,
    description: str | None = None,
    attribution: str | None = None,
) -> JoinStats:
    """Write the archive holding every layer of `parts` (each one or more distinct layers).

    Raises BuildError when a part cannot be read, two parts hold the same layer, or parts use a
    tile compression other than gzip (tippecanoe's). The result is checked with `verify`.
    """
    if not parts:
        raise BuildError(f"{out_path.name}: no layers to join")
    out_path = Path(out_path)
    archives = [Archive(p) for p in parts]
    tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.join.pmtiles")
    try:
        seen: dict[str, Path] = {}
        for archive in archives:
            if archive.tile_compression != "gzip" or archive.tile_type != "mvt":
                raise BuildError(
                    f"{archive.path.name}: only gzip-compressed MVT archives can be joined "
                    f"(got {archive.tile_compression or 'no compression'}, {archive.tile_type})"
                )
            for layer in archive.metadata().get("vector_layers") or []:
                lid = str(layer.get("id"))
                if lid in seen:
                    raise BuildError(
                        f"layer {lid} is in both {seen[lid].name} and {archive.path.name}"
                    )
                seen[lid] = archive.path
        tiles = joined = largest = over = 0
        with open(tmp, "wb") as f:
            writer = Writer(f)
            streams = [_entries(a, i) for i, a in enumerate(archives)]
            pending: list[bytes] = []
            current = -1

            def flush() -> None:
                nonlocal tiles, joined, largest, over
                if not pending:
                    return
                if len(pending) == 1:
                    data = pending[0]
                else:
                    raw = b"".join(gzip.decompress(p) for p in pending)
                    data = gzip.compress(raw, compresslevel=6, mtime=0)
                    joined += 1
                writer.write_tile(current, data)
                tiles += 1
                largest = max(largest, len(data))
                over += len(data) > TILE_SIZE_LIMIT
                pending.clear()

            for tile_id, _index, data in heapq.merge(*streams, key=lambda e: (e[0], e[1])):
                if tile_id != current:
                    flush()
                    current = tile_id
                pending.append(data)
            flush()
            if tiles == 0:
                raise BuildError(f"{out_path.name}: the parts hold no tiles")
            west = min(a.bounds[0] for a in archives)
            south = min(a.bounds[1] for a in archives)
            east = max(a.bounds[2] for a in archives)
            north = max(a.bounds[3] for a in archives)
            header = {
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
            extra = {"description": description, "attribution": attribution}
            writer.finalize(header, _merged_metadata(archives, name, extra))
        problems = verify(tmp)
        if problems:
            raise BuildError(f"joined archive {out_path.name} is unsound: " + "; ".join(problems))
        os.replace(tmp, out_path)
        return JoinStats(tiles, joined, largest, over)
    finally:
        for archive in archives:
            archive.close()
        tmp.unlink(missing_ok=True)
