"""The tiles: each audience's PMTiles archive (tiles/<audience>.pmtiles), joined in one walk over
the layers' archives, with the audience's extra layers — layers that are not catalog layers but
are made by the release's outputs, e.g. `changes` (publish.history.layer: what changed since the
replaced release). Checked with `publish.tiles.archive.verify` and against the audience's layers
plus the extra layers the registry knows; the server serves from the opened `Archive`."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from publish.domain import AUDIENCES, INTERNAL, LABELS_LAYER
from publish.features.labels import LABEL_FIELDS, label_frames
from publish.history.layer import CHANGES_LAYER, FIELDS, changes_frame
from publish.release.manifest import read_manifest
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput
from publish.release.outputs.changes import CHANGES_KEY
from publish.release.outputs.conflicts import (
    CONFLICT_FIELDS,
    CONFLICTS_KEY,
    conflict_frames,
    conflict_minzooms,
)
from publish.tiles.archive import Archive, verify
from publish.tiles.inputs import LayerInput, write_geojsonseq
from publish.tiles.job import TippecanoeJob
from publish.tiles.join import JoinOutput, join_many

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass(frozen=True)
class ExtraLayer:
    """A layer an output adds to the archives: `frames(job)` → {audience: its features in the
    feature store's CRS (EPSG:4326) with `fields`}; an audience left out, or given no feature,
    gets no such layer. Tiled from `minzoom` (default: the catalog's lowest) to the release's top
    zoom; with `row_minzooms(job, audience, frame)`, each row from its own zoom (at least
    `minzoom`). With `ready`, tiled in the background as soon as `ready(job)` says an earlier
    output has made its features (`start_extra_tiles`), while the next outputs are written."""

    name: str
    fields: tuple[str, ...]
    frames: Callable[[ReleaseJob], Mapping[str, gpd.GeoDataFrame]]
    minzoom: int | None = None
    row_minzooms: Callable[[ReleaseJob, str, gpd.GeoDataFrame], np.ndarray] | None = None
    ready: Callable[[ReleaseJob], bool] | None = None


def _changes_frames(job: ReleaseJob) -> dict[str, gpd.GeoDataFrame]:
    """Each audience's `changes` layer: the features its diff names (none without a diff)."""
    entry = job.manifest.get(CHANGES_KEY)
    if not entry or job.previous is None:
        return {}
    old_store = job.previous / str(read_manifest(job.previous)["audiences"][INTERNAL]["features"])
    new_store = job.staged / str(job.entry("features", INTERNAL))
    out = {}
    for audience in AUDIENCES:
        doc = json.loads((job.staged / entry["diff"][audience]["json"]).read_text("utf-8"))
        out[audience] = changes_frame(doc, old_store, new_store)
    return out


# The registry of extra layers, tiled in this order after the catalog's layers.
EXTRA_LAYERS: tuple[ExtraLayer, ...] = (
    ExtraLayer(CHANGES_LAYER, FIELDS, _changes_frames),
    ExtraLayer(LABELS_LAYER, LABEL_FIELDS, label_frames),  # one point per admin area's name
    # pieces of parcels and planned blocks: below z8 they are specks, and cost tiles; each kind
    # from the zoom of the layers it comes from; tiled while the indicator model is evaluated
    ExtraLayer(
        CONFLICTS_KEY,
        CONFLICT_FIELDS,
        conflict_frames,
        minzoom=8,
        row_minzooms=conflict_minzooms,
        ready=lambda job: CONFLICTS_KEY in job.made,
    ),
)
EXTRA_LAYER_NAMES = frozenset(extra.name for extra in EXTRA_LAYERS)
_ROW = "__row"  # an extra layer's row numbers, its features' ids

# job.made: the extra layers being tiled in the background (start_extra_tiles)
_STARTED = "tiles:started"

Running = dict[str, tuple[Path, TippecanoeJob]]  # {audience: (archive, its tippecanoe run)}


@dataclass
class _Started:
    folder: tempfile.TemporaryDirectory[str]
    layers: dict[str, Running]  # by extra layer name
    closed: bool = False  # joined or discarded: nothing more to start


def _start(job: ReleaseJob, extra: ExtraLayer, folder: Path) -> Running:
    """tippecanoe started on each audience's features of `extra` (an audience given the same
    frame as another shares its run and archive)."""
    frames = extra.frames(job)
    lowest = min(s.minzoom for s in job.catalog.layers)
    minzoom = lowest if extra.minzoom is None else min(extra.minzoom, job.top_zoom)
    by_frame: dict[int, tuple[Path, TippecanoeJob]] = {}
    out: Running = {}
    for audience in AUDIENCES:
        frame = frames.get(audience)
        if frame is None or len(frame) == 0:
            continue
        if id(frame) not in by_frame:
            zooms = np.full(len(frame), minzoom, dtype=np.int64)
            if extra.row_minzooms is not None:
                rows = extra.row_minzooms(job, audience, frame)
                zooms = np.clip(rows, minzoom, job.top_zoom)
            path = folder / f"{extra.name}-{audience}.geojsonl"
            layer = _write_zoomed(frame, zooms, path, extra, job.top_zoom)
            archive = folder / f"{extra.name}-{audience}.pmtiles"
            by_frame[id(frame)] = (archive, TippecanoeJob([layer], archive, extra.name).start())
        out[audience] = by_frame[id(frame)]
    return out


def start_extra_tiles(job: ReleaseJob) -> None:
    """Start tiling, in the background, each extra layer with a `ready` whose features an
    earlier output has made (the build calls this after each output's write)."""
    for extra in EXTRA_LAYERS:
        started = job.made.get(_STARTED)
        if extra.ready is None or not extra.ready(job):
            continue
        if started is None:
            folder = tempfile.TemporaryDirectory(dir=job.staged.parent, prefix=".extra-")
            started = job.made[_STARTED] = _Started(folder, {})
        if extra.name not in started.layers and not started.closed:
            with job.stages.stage(f"start tiling the {extra.name} layer"):
                started.layers[extra.name] = _start(job, extra, Path(started.folder.name))


def discard_extra_tiles(job: ReleaseJob) -> None:
    """Stop what `start_extra_tiles` left running and remove its files."""
    started = job.made.get(_STARTED)
    if started is None or started.closed:
        return
    started.closed = True
    for running in started.layers.values():
        for _, run in running.values():
            run.kill()
    started.folder.cleanup()


def _extra_archives(job: ReleaseJob, folder: Path) -> dict[str, list[tuple[str, Path]]]:
    """Each audience's extra layers tiled into `folder` (or where `start_extra_tiles` started
    them): {audience: [(name, archive)]}."""
    out: dict[str, list[tuple[str, Path]]] = {audience: [] for audience in AUDIENCES}
    started = job.made.get(_STARTED)
    started = None if started is None or started.closed else started
    for extra in EXTRA_LAYERS:
        with job.stages.stage(f"tile the {extra.name} layer"):
            running = started.layers.get(extra.name) if started else None
            if running is None:
                running = _start(job, extra, folder)
            waited: set[int] = set()
            for audience, (archive, run) in running.items():
                if id(run) not in waited:
                    run.wait()
                    waited.add(id(run))
                out[audience].append((extra.name, archive))
    return out


def _write_zoomed(
    frame: gpd.GeoDataFrame, zooms: np.ndarray, path: Path, extra: ExtraLayer, top_zoom: int
) -> LayerInput:
    """tippecanoe's input for an extra layer whose rows start at `zooms`: one run of rows per
    zoom, each feature keeping its row number (from 1) as its id."""
    numbered = frame.assign(**{_ROW: np.arange(1, len(frame) + 1)})
    count = 0
    for i, zoom in enumerate(np.unique(zooms)):
        count += write_geojsonseq(
            [numbered[zooms == zoom]],
            path,
            extra.fields,
            id_field=_ROW,
            minzoom=int(zoom),
            maxzoom=top_zoom,
            append=i > 0,
        )
    return LayerInput(extra.name, path, int(zooms.min()), top_zoom, None, count)


def write(job: ReleaseJob) -> dict[str, Any]:
    order = [s.id for s in job.catalog.layers]
    parts = [job.layers[lid].tiles_path for lid in order]
    city = (job.catalog.meta.get("city") or {}).get("name", "onemap")
    with tempfile.TemporaryDirectory(dir=job.staged.parent, prefix=".extra-") as tmp:
        extras = _extra_archives(job, Path(tmp))
        outputs = {}
        for audience, specs in job.audiences():
            members = [order.index(s.id) for s in specs]
            for _, archive in extras[audience]:
                if archive not in parts:  # an archive two audiences share is one part
                    parts.append(archive)
                members.append(parts.index(archive))
            outputs[audience] = JoinOutput(
                job.path(f"tiles/{audience}.pmtiles"),
                tuple(members),
                name=f"{city} {audience}",
                description=str(job.catalog.meta.get("description") or "") or None,
            )
        with job.stages.stage("join tiles (public, internal)"):
            stats = join_many(parts, list(outputs.values()))
    discard_extra_tiles(job)  # the archives started early are joined: their folder goes
    return {
        audience: {
            "path": f"tiles/{audience}.pmtiles",
            "tiles": stats[out.path].tiles,
            "joined_tiles": stats[out.path].joined,
            "largest_tile_bytes": stats[out.path].largest_tile,
            "tiles_over_500kb": stats[out.path].over_limit,
            # layers besides the audience's own, made by the release's outputs (EXTRA_LAYERS)
            "extra_layers": [name for name, _ in extras[audience]],
        }
        for audience, out in outputs.items()
    }


def _path(part: OutputPart) -> Any:
    return part.entry.get("path") if isinstance(part.entry, dict) else None


def check(part: OutputPart) -> list[str]:
    path = part.file(_path(part))
    problems = verify(path)
    if problems:
        return [f"{path.name}: {p}" for p in problems[:5]]
    extra_layers = set(part.entry.get("extra_layers") or ())
    if unknown := sorted(extra_layers - EXTRA_LAYER_NAMES):
        return [f"{path.name}: unknown extra layers {unknown}"]
    with Archive(path) as archive:
        held = set(archive.vector_layers())
        top = part.manifest.get("top_zoom")
        if extra := sorted(held - part.layers - extra_layers):
            problems.append(f"archive holds layers not listed for {part.audience}: {extra}")
        if missing := sorted(part.layers - held):
            problems.append(f"archive lacks layers listed for {part.audience}: {missing}")
        if top is not None and archive.maxzoom != top:
            problems.append(f"{path.name}: maxzoom {archive.maxzoom}, the release says {top}")
    return problems


def load(part: OutputPart) -> Archive:
    return Archive(part.file(_path(part)))


TILES = ReleaseOutput("tiles", write, check=check, load=load)
