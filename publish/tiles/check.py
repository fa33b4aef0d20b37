"""What tippecanoe wrote, checked against what it was asked for; feature ids counted per zoom.

tippecanoe exits 0 even when it could not read an input, and drops features silently when a
tile stays over its size limits, so `check_archive` verifies the archive and then counts the
distinct MVT feature ids of every layer at its check zoom (publish.tiles.mvt reads them; a
feature crossing tile edges is stored in several tiles, its id counts once).
`count_features_at_zoom` gives the same count for one layer at any zoom, for tests and checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from publish.tiles.archive import Archive, verify
from publish.tiles.inputs import LayerInput
from publish.tiles.mvt import TileDataError, feature_ids

__all__ = ["check_archive", "count_features_at_zoom", "feature_ids_at_zoom"]


def check_archive(
    path: Path, inputs: Sequence[LayerInput], *, require_complete: bool = True
) -> list[str]:
    """What is wrong with the archive tippecanoe wrote for `inputs`; [] when it is right.

    With `require_complete`, every layer must hold all its features (by distinct feature id) at
    its own maxzoom: tippecanoe drops features silently when a tile stays over its size limits.
    """
    if not Path(path).is_file():
        return ["no archive was written"]
    problems = verify(path)
    if problems:
        return problems
    want_min = min(i.minzoom for i in inputs)
    want_max = max(i.maxzoom for i in inputs)
    with Archive(path) as archive:
        if (archive.minzoom, archive.maxzoom) != (want_min, want_max):
            problems.append(
                f"zooms are {archive.minzoom}-{archive.maxzoom}, not the requested "
                f"{want_min}-{want_max}"
            )
        west, south, east, north = archive.bounds
        if not (west < east and south < north):
            problems.append(f"bounds {archive.bounds} are degenerate")
        got = archive.vector_layers()
        filled = [i for i in inputs if i.features > 0]
        missing = sorted({i.id for i in filled} - got.keys())
        extra = sorted(set(got) - {i.id for i in inputs})
        if missing:
            problems.append(f"layers {missing} are missing (input unreadable or empty?)")
        if extra:
            problems.append(f"unexpected layers {extra}")
        # tippecanoe's vector_layers always span the whole archive's zooms (per-feature zoom
        # ranges do not show there), so a layer's own range is checked in the tiles.
        try:
            ids, above = _scan_ids(archive, filled)
        except TileDataError as exc:
            return [*problems, f"a tile does not read: {exc}"]
        for layer in filled:
            n = len(ids[layer.id])
            if n == 0:
                problems.append(
                    f"layer {layer.id} has {layer.features} features but none in the tiles at "
                    f"zoom {layer.check_zoom}"
                )
            elif require_complete and n != layer.features:
                problems.append(
                    f"layer {layer.id} holds {n} of its {layer.features} features at zoom "
                    f"{layer.check_zoom}: the others were dropped (tiles over tippecanoe's size "
                    "limits, or features smaller than one tile unit)"
                )
            if layer.id in above:
                problems.append(
                    f"layer {layer.id} appears above its maxzoom {layer.maxzoom} (input written "
                    "without its zoom range?)"
                )
    return problems


def _scan_ids(
    archive: Archive, inputs: Sequence[LayerInput]
) -> tuple[dict[str, set[int | None]], set[str]]:
    """Distinct feature ids of each layer at its check zoom, and the layers seen above maxzoom."""
    ids: dict[str, set[int | None]] = {layer.id: set() for layer in inputs}
    maxzoom = {layer.id: layer.maxzoom for layer in inputs}
    check = {layer.id: layer.check_zoom for layer in inputs}
    above: set[str] = set()
    for z, _x, _y, data in archive.iter_tiles():
        names = [name for name, cz in check.items() if cz == z or maxzoom[name] < z]
        if not names:
            continue
        for name, found in feature_ids(data, archive.tile_compression, names).items():
            if check[name] == z:
                ids[name].update(found)
            elif found and maxzoom[name] < z:
                above.add(name)
    return ids, above


def feature_ids_at_zoom(archive_path: Path, layer_id: str, z: int) -> set[int | None]:
    """The distinct MVT feature ids of `layer_id` over every tile at zoom `z` (None stands for
    features without an id)."""
    ids: set[int | None] = set()
    with Archive(archive_path) as archive:
        for tz, _x, _y, data in archive.iter_tiles():
            if tz == z:
                found = feature_ids(data, archive.tile_compression, (layer_id,))
                ids.update(found.get(layer_id, ()))
    return ids


def count_features_at_zoom(archive_path: Path, layer_id: str, z: int) -> int:
    """How many distinct features of `layer_id` the tiles at zoom `z` hold (by feature id).

    Features crossing tile edges are stored in several tiles; counting their ids, not the
    stored copies, gives the number of source features that survived at that zoom.
    """
    return len(feature_ids_at_zoom(archive_path, layer_id, z))
