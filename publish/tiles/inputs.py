"""tippecanoe's input: one newline-delimited GeoJSON file per layer, and its `LayerInput`.

`write_geojsonseq` streams a layer's batches (already EPSG:4326, already filtered to the
published fields) into a GeoJSONSeq file; `write_layer` does so with the layer's zoom range and
returns the `LayerInput` that tells the command and the check what the archive must show.

* Every feature carries a stable integer GeoJSON `id` (the running row number of the layer's
  source, from 1, or an integer column such as BSM). tippecanoe keeps it as the MVT feature id,
  so clients can address features (feature-state, highlighting) and the check can count
  *distinct* features although a feature crossing a tile edge is stored in several tiles
  (publish.tiles.check). That count is how "no feature is dropped at maxzoom" is checked.
* tippecanoe's `-L {json}` has no per-layer zoom range (publish.tiles.tippecanoe), so a layer's
  own range is written per feature as the GeoJSON extension member
  `"tippecanoe": {"minzoom": .., "maxzoom": ..}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import shapely

from publish.errors import BuildError

__all__ = ["GEOMETRY_KINDS", "LayerInput", "write_geojsonseq", "write_layer"]

GEOMETRY_KINDS = ("polygon", "line", "point")


def _ids(frame: geopandas.GeoDataFrame, id_field: str | None, start: int) -> np.ndarray:
    if id_field is None:
        return np.arange(start, start + len(frame), dtype=np.int64)
    col = frame[id_field]
    try:
        values = pd.to_numeric(col, errors="raise")
    except (ValueError, TypeError) as exc:
        raise BuildError(
            f"id field {id_field!r} holds values that are not integers: {exc}"
        ) from exc
    if values.isna().any():
        raise BuildError(f"id field {id_field!r} has empty values; feature ids must be integers")
    arr = values.to_numpy()
    if arr.dtype.kind == "f":
        if not np.all(arr == np.floor(arr)):
            raise BuildError(f"id field {id_field!r} holds non-integer numbers")
        arr = arr.astype(np.int64)
    arr = arr.astype(np.int64)
    if (arr < 0).any():
        raise BuildError(f"id field {id_field!r} holds negative numbers; MVT ids are unsigned")
    return arr


def _properties(frame: geopandas.GeoDataFrame, fields: Sequence[str]) -> list[str]:
    """One JSON object per row with only `fields`; pandas' C encoder does the work.

    numpy ints/floats become JSON numbers, NaN/None/NaT become null (tippecanoe then omits the
    attribute: MVT has no null), datetimes ISO 8601 strings, text stays UTF-8 (no \\u escapes).
    """
    if not fields:
        return ["{}"] * len(frame)
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise BuildError(f"fields {missing} are not columns of the layer ({list(frame.columns)})")
    table = pd.DataFrame(frame[list(fields)])
    text = table.to_json(
        orient="records",
        lines=True,
        force_ascii=False,
        double_precision=15,
        date_format="iso",
        default_handler=str,
    )
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(frame):  # a value with a raw newline cannot happen: JSON escapes it
        raise BuildError("property serialisation produced a different number of rows")
    return lines


def write_geojsonseq(
    frames: Iterable[geopandas.GeoDataFrame],
    path: Path,
    fields: Sequence[str],
    *,
    id_field: str | None = None,
    minzoom: int | None = None,
    maxzoom: int | None = None,
    with_ids: bool = True,
    append: bool = False,
) -> int:
    """Stream `frames` (EPSG:4326) into newline-delimited GeoJSON at `path`; return the count.

    Each line is one Feature with a top-level integer `id` (the row number counted from 1 over
    all batches, or the integer column `id_field`), only `fields` as properties, and, when
    `minzoom`/`maxzoom` are given, the member `"tippecanoe": {"minzoom": .., "maxzoom": ..}`
    that limits the feature (hence the layer) to those zooms. Rows with a missing or empty
    geometry are skipped (not counted), but still use up their row number, so ids stay stable.
    With `with_ids=False` the features carry no id (they stand for no source feature: a low-zoom
    overview, publish.tiles.overview); with `append` they go after what `path` holds.
    """
    zoom_member = ""
    if minzoom is not None or maxzoom is not None:
        zooms = {k: v for k, v in (("minzoom", minzoom), ("maxzoom", maxzoom)) if v is not None}
        zoom_member = ',"tippecanoe":' + json.dumps(zooms, separators=(",", ":"))
    id_member = '"id":{},' if with_ids else ""
    fields = list(fields)
    count = 0
    row = 1
    path = Path(path)
    chosen: list[np.ndarray] = []  # ids from `id_field`, checked for duplicates at the end
    with open(path, "a" if append else "w", encoding="utf-8", newline="\n") as out:
        for frame in frames:
            n = len(frame)
            if n == 0:
                continue
            crs = frame.crs
            if crs is not None and crs.to_epsg() != 4326:
                raise BuildError(f"batch for {path.name} is in {crs.to_string()}, not EPSG:4326")
            ids = _ids(frame, id_field, row)
            row += n
            if id_field is not None:
                chosen.append(ids)
            geoms = frame.geometry.to_numpy()
            keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            geo_json = shapely.to_geojson(geoms)  # vectorised in GEOS; None where missing
            props = _properties(frame, fields)
            if keep.all():
                ids_l = ids.tolist()
                rows = zip(ids_l, geo_json.tolist(), props, strict=True)
            else:
                idx = np.flatnonzero(keep)
                rows = zip(
                    ids[idx].tolist(), geo_json[idx].tolist(), [props[i] for i in idx], strict=True
                )
            lines = [
                f'{{"type":"Feature",{id_member.format(i)}"geometry":{g},'
                f'"properties":{p}{zoom_member}}}\n'
                for i, g, p in rows
            ]
            out.write("".join(lines))
            count += len(lines)
    if chosen:
        all_ids = np.concatenate(chosen)
        if len(np.unique(all_ids)) != len(all_ids):
            raise BuildError(
                f"id field {id_field!r} has duplicate values; feature ids must be unique"
            )
    return count


@dataclass(frozen=True)
class LayerInput:
    """One layer ready for tippecanoe: its GeoJSONSeq file and what the archive must show."""

    id: str
    path: Path
    minzoom: int
    maxzoom: int
    geometry: str | None  # 'polygon' | 'line' | 'point' | None (mixed)
    features: int
    description: str | None = None
    # The zoom from which every feature must be in the tiles (default: maxzoom). A layer tiled
    # beyond its own maxzoom (to stay visible in an archive that goes deeper) is checked there.
    complete_zoom: int | None = None

    def __post_init__(self) -> None:
        if self.geometry is not None and self.geometry not in GEOMETRY_KINDS:
            raise ValueError(f"layer {self.id}: unknown geometry kind {self.geometry!r}")
        if not 0 <= self.minzoom <= self.maxzoom <= 24:
            raise ValueError(f"layer {self.id}: bad zoom range {self.minzoom}-{self.maxzoom}")
        if self.complete_zoom is not None and not (
            self.minzoom <= self.complete_zoom <= self.maxzoom
        ):
            raise ValueError(
                f"layer {self.id}: complete_zoom outside {self.minzoom}-{self.maxzoom}"
            )

    @property
    def check_zoom(self) -> int:
        return self.maxzoom if self.complete_zoom is None else self.complete_zoom


def write_layer(
    frames: Iterable[geopandas.GeoDataFrame],
    path: Path,
    layer_id: str,
    fields: Sequence[str],
    *,
    minzoom: int,
    maxzoom: int,
    geometry: str | None = None,
    description: str | None = None,
    id_field: str | None = None,
) -> LayerInput:
    """`write_geojsonseq` with the layer's zoom range per feature, returning its `LayerInput`."""
    n = write_geojsonseq(frames, path, fields, id_field=id_field, minzoom=minzoom, maxzoom=maxzoom)
    return LayerInput(layer_id, Path(path), minzoom, maxzoom, geometry, n, description)
