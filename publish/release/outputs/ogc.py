"""The OGC API configuration: each audience's pygeoapi document (ogc/<audience>.yml), its
collections from the catalog and its server metadata from config/pygeoapi.yml (publish.ogc.config
writes and reads it). Checked to publish only the audience's layers from files inside the
release; the server serves from an `OgcService` (publish.ogc.service)."""

from __future__ import annotations

from typing import Any

from publish.errors import ReleaseError
from publish.indicators.tables import MAP_TABLE
from publish.ogc.config import (
    INDICATORS_COLLECTION,
    indicators_collection,
    pygeoapi_config,
    read_config,
    resolve_config,
    site_check_process,
    write_config,
)
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput

OGC_KEY = "ogc"  # the audiences' manifest key; the server's `audience.services` key


def write(job: ReleaseJob) -> dict[str, str]:
    out = {}
    for audience, specs in job.audiences():
        config = pygeoapi_config(
            job.server_config,
            specs,
            audience,
            bounds={s.id: job.layers[s.id].bounds for s in specs},
            top_zoom=job.top_zoom,
            crs=job.catalog.crs,
            processes={"site-check": site_check_process(audience)},
        )
        if job.manifest["audiences"][audience].get("monitoring"):  # the counties' figures
            admin = [job.layers[s.id].bounds for s in specs if s.role == "admin"]
            config["resources"][INDICATORS_COLLECTION] = indicators_collection(
                audience, MAP_TABLE, bounds=next(filter(None, admin), None), crs=job.catalog.crs
            )
        out[audience] = f"ogc/{audience}.yml"
        write_config(config, job.path(out[audience]))
    return out


def check(part: OutputPart) -> list[str]:
    path = part.file()
    try:
        resolve_config(read_config(path), part.root, part.layers, source=str(part.entry))
    except ReleaseError as exc:
        return [str(exc)]
    return []


def load(part: OutputPart) -> Any:
    from publish.ogc.service import OgcService  # the server's side: starlette, pygeoapi

    return OgcService.from_release(part.root, str(part.entry), part.layers)


OGC = ReleaseOutput(OGC_KEY, write, check=check, load=load)
