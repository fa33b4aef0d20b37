"""A release's pygeoapi configuration, checked and made ready to serve.

The build writes ogc/<audience>.yml with data paths relative to the release folder (the folder is
renamed into place after it is written). Here they become absolute, and the document is refused
when it would publish a collection the audience does not have, or points outside the release.
`server.url` is set later, per base URL (service.OgcService), because it depends on where clients
reach the server.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

from publish.errors import ReleaseError

# Keys of a processor definition that name files of the release (publish.sitecheck.process).
PROCESSOR_FILES = ("gpkg", "catalog")


def read_config(path: Path) -> dict[str, Any]:
    """The YAML document at `path`; ReleaseError when it cannot be read as a pygeoapi config."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReleaseError(f"{path}: pygeoapi configuration unreadable: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("server"), dict):
        raise ReleaseError(f"{path}: not a pygeoapi configuration (no server section)")
    if not isinstance(doc.get("resources"), dict):
        raise ReleaseError(f"{path}: pygeoapi configuration has no resources")
    return doc


def collections(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The resources of type `collection`, by id."""
    return {
        str(rid): res
        for rid, res in (doc.get("resources") or {}).items()
        if isinstance(res, dict) and res.get("type") == "collection"
    }


def _absolute(root: Path, data: str, where: str) -> str:
    path = (root / data).resolve()
    if not path.is_relative_to(root):
        raise ReleaseError(f"{where}: data {data!r} points outside the release")
    if not path.is_file():
        raise ReleaseError(f"{where}: data {data!r} does not exist")
    return str(path)


def resolve_config(
    doc: Mapping[str, Any], root: Path, layers: Collection[str], *, source: str = "ogc config"
) -> dict[str, Any]:
    """A copy of `doc` whose file providers' `data` are absolute paths inside `root`.

    Every collection must be one of `layers` (the audience's); a provider whose `data` is not a
    relative path (a PostgreSQL connection, a URL) is left as it is.
    """
    root = Path(root).resolve()
    out = copy.deepcopy(dict(doc))
    unknown = sorted(set(collections(out)) - set(layers))
    if unknown:
        raise ReleaseError(f"{source}: collections not listed for this audience: {unknown}")
    for rid, resource in (out.get("resources") or {}).items():
        if isinstance(resource, dict) and resource.get("type") == "process":
            processor = resource.get("processor")
            if not isinstance(processor, dict) or not processor.get("name"):
                raise ReleaseError(f"{source}: process {rid} has no processor")
            for key in PROCESSOR_FILES:
                value = processor.get(key)
                if isinstance(value, str) and not Path(value).is_absolute():
                    processor[key] = _absolute(root, value, f"{source}: {rid}")
    _sync_manager(out)
    for rid, resource in collections(out).items():
        providers = resource.get("providers")
        if not isinstance(providers, list) or not providers:
            raise ReleaseError(f"{source}: collection {rid} has no providers")
        for provider in providers:
            data = provider.get("data") if isinstance(provider, dict) else None
            if isinstance(data, str) and "://" not in data and not Path(data).is_absolute():
                provider["data"] = _absolute(root, data, f"{source}: {rid}")
    return out


def _sync_manager(doc: dict[str, Any]) -> None:
    """Processes run synchronously with pygeoapi's Dummy manager (no job store). pygeoapi refuses
    every execution when `output_dir` does not exist, so it is a folder we make."""
    manager = doc["server"].setdefault("manager", {})
    if not isinstance(manager, dict):
        raise ReleaseError("server.manager must be a mapping")
    manager.setdefault("name", "Dummy")
    outputs = Path(tempfile.gettempdir()) / "onemap-process-outputs"
    outputs.mkdir(exist_ok=True)
    manager["output_dir"] = str(outputs)
    manager.setdefault("connection", str(outputs / "jobs"))


def with_url(doc: Mapping[str, Any], url: str) -> dict[str, Any]:
    """A copy of `doc` served at `url` (pygeoapi writes it into every link)."""
    out = copy.deepcopy(dict(doc))
    out["server"]["url"] = url.rstrip("/")
    return out
