"""The tiles: each audience's PMTiles archive (tiles/<audience>.pmtiles), joined in one walk over
the layers' archives. Checked with `publish.tiles.archive.verify` and against the audience's
layers; the server serves from the opened `Archive`."""

from __future__ import annotations

from typing import Any

from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput
from publish.tiles.archive import Archive, verify
from publish.tiles.join import JoinOutput, join_many


def write(job: ReleaseJob) -> dict[str, Any]:
    order = [s.id for s in job.catalog.layers]
    city = (job.catalog.meta.get("city") or {}).get("name", "onemap")
    outputs = {
        audience: JoinOutput(
            job.path(f"tiles/{audience}.pmtiles"),
            tuple(order.index(s.id) for s in specs),
            name=f"{city} {audience}",
            description=str(job.catalog.meta.get("description") or "") or None,
        )
        for audience, specs in job.audiences()
    }
    with job.stages.stage("join tiles (public, internal)"):
        stats = join_many([job.layers[lid].tiles_path for lid in order], list(outputs.values()))
    return {
        audience: {
            "path": f"tiles/{audience}.pmtiles",
            "tiles": stats[out.path].tiles,
            "joined_tiles": stats[out.path].joined,
            "largest_tile_bytes": stats[out.path].largest_tile,
            "tiles_over_500kb": stats[out.path].over_limit,
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
    with Archive(path) as archive:
        held = set(archive.vector_layers())
        top = part.manifest.get("top_zoom")
        if extra := sorted(held - part.layers):
            problems.append(f"archive holds layers not listed for {part.audience}: {extra}")
        if missing := sorted(part.layers - held):
            problems.append(f"archive lacks layers listed for {part.audience}: {missing}")
        if top is not None and archive.maxzoom != top:
            problems.append(f"{path.name}: maxzoom {archive.maxzoom}, the release says {top}")
    return problems


def load(part: OutputPart) -> Archive:
    return Archive(part.file(_path(part)))


TILES = ReleaseOutput("tiles", write, check=check, load=load)
