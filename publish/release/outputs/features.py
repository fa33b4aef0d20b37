"""The feature store: each audience's GeoPackage (features/<audience>.gpkg), one table per layer,
assembled from the layers' tables, and beside the store that holds every layer the layers' row
hashes (features/rows/<layer>.npz, publish.features.rowhashes: what the next release's diff
reads instead of the tables; hashed once per layer table and kept with the layer). Checked to hold
a table for each of the audience's layers and none for another's (a public store never holds an
internal layer)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from publish.domain import INTERNAL
from publish.features.rowhashes import row_hashes_path, write_row_hashes
from publish.features.store import assemble
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.reader import GeoPackage
from publish.indicators.tables import MAP_TABLE
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput

ROW_HASHES = "rows.npz"  # in a layer's build folder, beside its features.gpkg


def _link_or_copy(source: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    try:
        os.link(source, dest)  # the release and the layer cache share the tiles folder
    except OSError:
        shutil.copyfile(source, dest)


def _row_hashes(job: ReleaseJob, store: Path) -> None:
    """Each layer's row hashes beside `store` (hashed now if its build folder has none yet)."""
    for spec in job.catalog.layers:
        layer = job.layers[spec.id]
        cached = layer.features_path.with_name(ROW_HASHES)
        if not cached.is_file() and not write_row_hashes(
            layer.features_path, spec.id, spec.id_field, cached
        ):
            continue  # some feature has no integer id: the diff reads the table
        dest = row_hashes_path(store, spec.id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(cached, dest)


def write(job: ReleaseJob) -> dict[str, str]:
    out = {}
    for audience, specs in job.audiences():
        out[audience] = f"features/{audience}.gpkg"
        with job.stages.stage(f"assemble {audience} features"):
            assemble(
                job.path(out[audience]), [(s.id, job.layers[s.id].features_path) for s in specs]
            )
    with job.stages.stage("row hashes"):
        _row_hashes(job, job.staged / out[INTERNAL])
    return out


def check(part: OutputPart) -> list[str]:
    path = part.file()
    try:
        tables = GeoPackage(path).feature_tables()
    except GeoPackageError as exc:
        return [f"{part.entry}: {exc}"]
    problems = []
    if extra := sorted(tables - part.layers - {MAP_TABLE}):  # the monitoring's county map
        problems.append(f"{part.entry} holds tables not listed for {part.audience}: {extra}")
    if missing := sorted(part.layers - tables):
        problems.append(f"{part.entry} lacks tables listed for {part.audience}: {missing}")
    return problems


FEATURES = ReleaseOutput("features", write, check=check)
