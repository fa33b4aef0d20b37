"""The catalog the release was built from: catalog.yml as it was read (the site check and the
viewer read it back), and the manifest's `catalog` entry (its path, metadata and layers)."""

from __future__ import annotations

import json
from typing import Any

from publish.catalog import CatalogError, load_catalog
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput

CATALOG_FILE = "catalog.yml"


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def write(job: ReleaseJob) -> dict[str, Any]:
    job.path(CATALOG_FILE).write_text(job.catalog.document_text(), encoding="utf-8")
    document = job.catalog.document()
    return {
        "path": str(job.catalog.path),
        "meta": _plain({k: v for k, v in document.items() if k != "layers"}),
        "layers": _plain(document["layers"]),
    }


def check(part: OutputPart) -> list[str]:
    try:
        catalog = load_catalog(part.file(CATALOG_FILE))
    except CatalogError as exc:
        return [f"{CATALOG_FILE}: {exc}"]
    missing = sorted(part.layers - {s.id for s in catalog.layers})
    return [f"{CATALOG_FILE} lacks layers {missing}"] if missing else []


CATALOG = ReleaseOutput("catalog", write, per_audience=False, check=check)
