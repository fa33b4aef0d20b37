"""The tiles: each audience's PMTiles archive (tiles/<audience>.pmtiles), joined in one walk over
the layers' archives, with the audience's `changes` layer (publish.history.layer: what changed
since the replaced release) when there are any. Checked with `publish.tiles.archive.verify` and
against the audience's layers; the server serves from the opened `Archive`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from publish.domain import AUDIENCES, INTERNAL
from publish.history.layer import CHANGES_LAYER, FIELDS, changes_frame
from publish.release.manifest import read_manifest
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput
from publish.release.outputs.changes import CHANGES_KEY
from publish.tiles.archive import Archive, verify
from publish.tiles.inputs import write_layer
from publish.tiles.job import run_tippecanoe
from publish.tiles.join import JoinOutput, join_many


def _changes_archives(job: ReleaseJob, folder: Path) -> dict[str, Path]:
    """Each audience's `changes` layer tiled into `folder` (none without changes)."""
    entry = job.manifest.get(CHANGES_KEY)
    if not entry or job.previous is None:
        return {}
    old_store = job.previous / str(read_manifest(job.previous)["audiences"][INTERNAL]["features"])
    new_store = job.staged / str(job.entry("features", INTERNAL))
    out = {}
    for audience in AUDIENCES:
        doc = json.loads((job.staged / entry["diff"][audience]["json"]).read_text("utf-8"))
        frame = changes_frame(doc, old_store, new_store)
        if len(frame) == 0:
            continue
        layer = write_layer(
            [frame],
            folder / f"changes-{audience}.geojsonl",
            CHANGES_LAYER,
            FIELDS,
            minzoom=min(s.minzoom for s in job.catalog.layers),
            maxzoom=job.top_zoom,
        )
        out[audience] = folder / f"changes-{audience}.pmtiles"
        run_tippecanoe([layer], out[audience], CHANGES_LAYER)
    return out


def write(job: ReleaseJob) -> dict[str, Any]:
    order = [s.id for s in job.catalog.layers]
    parts = [job.layers[lid].tiles_path for lid in order]
    city = (job.catalog.meta.get("city") or {}).get("name", "onemap")
    with tempfile.TemporaryDirectory(dir=job.staged.parent, prefix=".changes-") as tmp:
        with job.stages.stage("tile the changes"):
            changes = _changes_archives(job, Path(tmp))
        outputs = {}
        for audience, specs in job.audiences():
            members = [order.index(s.id) for s in specs]
            if audience in changes:
                members.append(len(parts))
                parts.append(changes[audience])
            outputs[audience] = JoinOutput(
                job.path(f"tiles/{audience}.pmtiles"),
                tuple(members),
                name=f"{city} {audience}",
                description=str(job.catalog.meta.get("description") or "") or None,
            )
        with job.stages.stage("join tiles (public, internal)"):
            stats = join_many(parts, list(outputs.values()))
    return {
        audience: {
            "path": f"tiles/{audience}.pmtiles",
            "tiles": stats[out.path].tiles,
            "joined_tiles": stats[out.path].joined,
            "largest_tile_bytes": stats[out.path].largest_tile,
            "tiles_over_500kb": stats[out.path].over_limit,
            # layers besides the audience's own (the changes since the replaced release)
            "extra_layers": [CHANGES_LAYER] if audience in changes else [],
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
    if extra_layers - {CHANGES_LAYER}:
        return [f"{path.name}: unknown extra layers {sorted(extra_layers - {CHANGES_LAYER})}"]
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
