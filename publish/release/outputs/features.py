"""The feature store: each audience's GeoPackage (features/<audience>.gpkg), one table per layer,
assembled from the layers' tables. Checked to hold a table for each of the audience's layers and
none for another's (a public store never holds an internal layer)."""

from __future__ import annotations

from publish.features.store import assemble
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.reader import GeoPackage
from publish.indicators.tables import MAP_TABLE
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput


def write(job: ReleaseJob) -> dict[str, str]:
    out = {}
    for audience, specs in job.audiences():
        out[audience] = f"features/{audience}.gpkg"
        with job.stages.stage(f"assemble {audience} features"):
            assemble(
                job.path(out[audience]), [(s.id, job.layers[s.id].features_path) for s in specs]
            )
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
