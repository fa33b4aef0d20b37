"""A release's monitoring documents as the manifest names them (`monitoring/<audience>.json`,
`conflicts/<audience>.json`), and the trend of the indicators across kept releases.

Each release carries its own figures; the trend is read from those files, oldest first, never
recomputed. A release whose files are missing or unreadable is left out of the trend (a release
built before the indicator model has none)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from publish.errors import PublishError, ReleaseError
from publish.release.manifest import read_manifest
from publish.release.output import OutputPart

MONITORING_KEY = "monitoring"
CONFLICTS_KEY = "conflicts"
MONITORING_SCHEMA = "onemap-indicators/1"
CONFLICTS_SCHEMA = "onemap-conflicts/1"


class NoMonitoringError(PublishError):
    """A release has no monitoring document for an audience (built without indicators)."""


def read_document(
    root: Path, manifest: Mapping[str, Any], audience: str, key: str, schema: str
) -> dict[str, Any] | None:
    """The audience's `key` document of the release at `root` (None when the manifest names
    none); ReleaseError when it is named but unreadable or of another schema."""
    entry = ((manifest.get("audiences") or {}).get(audience) or {}).get(key)
    if entry is None:
        return None
    path = OutputPart(Path(root), entry, manifest, audience).file()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path}: unreadable {key} document: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema") != schema:
        raise ReleaseError(f"{path}: not a {schema} document")
    return doc


def read_monitoring(root: Path, audience: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The release's (monitoring, conflicts) documents for `audience`; NoMonitoringError when
    it has no monitoring (conflicts may be None)."""
    manifest = read_manifest(root)
    monitoring = read_document(root, manifest, audience, MONITORING_KEY, MONITORING_SCHEMA)
    if monitoring is None:
        raise NoMonitoringError(
            f"release {manifest['release']} has no indicator monitoring for the {audience} "
            "audience (its catalog names no indicator model)"
        )
    conflicts = read_document(root, manifest, audience, CONFLICTS_KEY, CONFLICTS_SCHEMA)
    return monitoring, conflicts


def trend_point(root: Path, audience: str, indicators: Iterable[str]) -> dict[str, Any] | None:
    """One kept release's point of the trend: {release, time, note, values: {indicator:
    {"<scope>:<code>": value}}} for the `indicators` named; None if it has no readable
    monitoring for `audience`."""
    try:
        manifest = read_manifest(root)
        doc = read_document(root, manifest, audience, MONITORING_KEY, MONITORING_SCHEMA)
    except PublishError:
        return None
    if doc is None:
        return None
    wanted = set(indicators)
    values: dict[str, dict[str, Any]] = {name: {} for name in wanted}
    for result in doc.get("results") or []:
        name = result.get("indicator")
        if name in wanted:
            values[name][f"{result.get('scope')}:{result.get('code')}"] = result.get("value")
    return {
        "release": str(manifest["release"]),
        "time": manifest.get("created"),
        "note": manifest.get("note"),
        "values": {name: values[name] for name in sorted(values)},
    }


def indicator_ids(monitoring: Mapping[str, Any]) -> list[str]:
    return [str(item["id"]) for item in monitoring.get("indicators") or [] if "id" in item]
