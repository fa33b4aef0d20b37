"""One layer's archive from archives of that layer tiled at disjoint zoom ranges, tile by tile.

A layer's zooms below publish.tiles.tippecanoe.LOW_ZOOMS_BELOW (a dense layer's overview among
them, publish.tiles.overview) are tiled in a tippecanoe run of their own, at a coarser tile extent
than the feature-complete zooms (publish.pipeline.layer); `stack_archives` puts the low zooms and
the detail's zooms back into the single archive the layer cache and the release join expect. No tile is decoded or compressed again: the zoom ranges do not overlap, so
every tile comes from exactly one part, and PMTiles tile ids order by zoom first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

from pmtiles.writer import Writer

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify
from publish.tiles.join import archive_header

__all__ = ["stack_archives"]


def stack_archives(parts: Sequence[Path], out_path: Path) -> None:
    """Write `out_path` holding every tile of `parts`: archives of the same layers whose zoom
    ranges do not overlap. Its metadata is the part with the highest zooms' (the
    feature-complete one), with each vector layer's minzoom lowered to the archive's.

    Raises BuildError when the parts hold different layers, their zooms overlap, or the result
    is unsound. The archive is written beside `out_path` and renamed into place when verified.
    """
    if not parts:
        raise BuildError(f"{Path(out_path).name}: no archives to stack")
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.stack.pmtiles")
    try:
        with ExitStack() as stack:
            archives = sorted(
                (stack.enter_context(Archive(p)) for p in parts), key=lambda a: a.minzoom
            )
            _check_parts(archives)
            with open(tmp, "wb") as f:
                writer = Writer(f)
                for archive in archives:  # in zoom order, hence in tile-id order
                    for tile_id, data in archive.iter_entries():
                        writer.write_tile(tile_id, data)
                writer.finalize(archive_header(archives), _metadata(archives))
        problems = verify(tmp)
        if problems:
            raise BuildError(f"stacked archive {out_path.name} is unsound: " + "; ".join(problems))
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_parts(archives: Sequence[Archive]) -> None:
    first = archives[0]
    for lower, upper in pairwise(archives):
        if set(upper.vector_layers()) != set(first.vector_layers()):
            raise BuildError(
                f"{upper.path.name} and {first.path.name} hold different layers: "
                f"{sorted(upper.vector_layers())} and {sorted(first.vector_layers())}"
            )
        if upper.minzoom <= lower.maxzoom:
            raise BuildError(
                f"the zooms of {lower.path.name} ({lower.minzoom}-{lower.maxzoom}) and "
                f"{upper.path.name} ({upper.minzoom}-{upper.maxzoom}) overlap"
            )
    for archive in archives:
        if archive.tile_compression != "gzip" or archive.tile_type != "mvt":
            raise BuildError(
                f"{archive.path.name}: only gzip-compressed MVT archives can be stacked "
                f"(got {archive.tile_compression or 'no compression'}, {archive.tile_type})"
            )


def _metadata(archives: Sequence[Archive]) -> dict[str, Any]:
    metadata = archives[-1].metadata()
    minzoom = archives[0].minzoom
    for layer in metadata.get("vector_layers") or []:
        if isinstance(layer, dict):
            layer["minzoom"] = minzoom
    return metadata
