"""A release as the diff reads it: its manifest, its catalog and which layers an audience sees.

The catalog is the one the build checked, read back from the manifest's ``catalog`` entry (its
``meta`` with the city block, and its ``layers``) and validated again by publish.catalog, so a
layer's id field, access, role and code field mean here what they meant to the build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.catalog import Catalog, LayerSpec, parse_catalog
from publish.domain import INTERNAL
from publish.errors import CatalogError, ReleaseError
from publish.release.manifest import read_manifest

__all__ = ["Snapshot", "open_snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """One release folder, read for comparing."""

    root: Path
    manifest: Mapping[str, Any]
    catalog: Catalog

    @property
    def id(self) -> str:
        return str(self.manifest["release"])

    @property
    def created(self) -> str | None:
        created = self.manifest.get("created")
        return None if created is None else str(created)

    @property
    def city(self) -> Mapping[str, Any]:
        return self.catalog.meta.get("city") or {}

    @property
    def city_code(self) -> str | None:
        code = self.city.get("code")
        return None if code is None else str(code)

    @property
    def features(self) -> Path:
        """The GeoPackage holding every layer's table (the internal audience's)."""
        audiences = self.manifest.get("audiences") or {}
        rel = (audiences.get(INTERNAL) or {}).get("features") or f"features/{INTERNAL}.gpkg"
        return self.root / str(rel)

    def visible(self, audience: str) -> dict[str, LayerSpec]:
        """The layers the audience sees in this release, by id, in catalog order."""
        return {spec.id: spec for spec in self.catalog.for_audience(audience)}

    def layer_entry(self, layer_id: str) -> Mapping[str, Any]:
        """The manifest's record of a layer (features, fingerprint, ...); {} if none."""
        return (self.manifest.get("layers") or {}).get(layer_id) or {}

    def indicators(self, audience: str) -> Mapping[str, Any] | None:
        return (self.manifest.get("indicators") or {}).get(audience)


def open_snapshot(root: Path, manifest: Mapping[str, Any] | None = None) -> Snapshot:
    """A release folder with its manifest (read from manifest.json unless given: a build passes
    the manifest of the release it is writing) and catalog; ReleaseError naming the folder if
    either is missing or unreadable."""
    root = Path(root)
    if manifest is None:
        manifest = read_manifest(root)
    elif "release" not in manifest:
        raise ReleaseError(f"{root}: the manifest given has no release id")
    entry = manifest.get("catalog")
    if not isinstance(entry, Mapping) or not isinstance(entry.get("layers"), list):
        raise ReleaseError(f"{root}: the manifest holds no catalog")
    meta = entry.get("meta")
    if not isinstance(meta, Mapping):
        meta = {}
    try:
        catalog = parse_catalog({**meta, "layers": entry["layers"]}, root / "catalog.yml")
    except CatalogError as exc:
        raise ReleaseError(f"{root}: the manifest's catalog is invalid: {exc}") from exc
    return Snapshot(root=root, manifest=manifest, catalog=catalog)
