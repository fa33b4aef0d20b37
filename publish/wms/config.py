"""The MapProxy configuration of one release and audience: the top-level mapproxy.yaml template
completed with a source, two caches (Web Mercator, CGCS2000) and a layer for the whole map
(`plan`) and for each of the audience's catalog layers, every cache in the release's own folder
of the server's data folder (`<data>/raster/<release>/<audience>/`, beside the configuration).

The layer list comes from the release's manifest (the audience's layers, in catalog order),
titles from its catalog, coverage from the layers' bounds; the WMS also offers the release's
working CRS (the catalog's `city.crs`). Only the audience's layers are named: the public
configuration cannot serve an internal layer, whatever a client asks.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from publish.domain import DEFAULT_CRS, INTERNAL, PUBLIC
from publish.errors import PublishError
from publish.raster.style import PLAN

CONFIG_NAME = "mapproxy.yaml"
SOURCE_TYPE = "onemap_raster"  # publish.wms.source registers it
WEBMERCATOR = "webmercator"
CGCS2000 = "cgcs2000"
GRIDS = (WEBMERCATOR, CGCS2000)
_GENERATOR_KEY = "onemap"
_PLAN_TITLES = {
    PUBLIC: "国土空间规划一张图 One Map",
    INTERNAL: "国土空间规划一张图（内部）One Map (staff)",
}


class WmsConfigError(PublishError):
    """The MapProxy template or a release cannot make a WMS/WMTS configuration."""


def raster_cache_root(data_dir: Path) -> Path:
    """Where the raster caches (and their MapProxy configurations) live in the server's data
    folder (Settings.data_dir): one folder per release id."""
    return Path(data_dir) / "raster"


def release_cache_dir(data_dir: Path, release_id: str, audience: str) -> Path:
    return raster_cache_root(data_dir) / release_id / audience


def prune_caches(data_dir: Path, keep: Iterable[str]) -> list[str]:
    """Remove the raster caches of every release not in `keep`; the ids removed."""
    root = raster_cache_root(data_dir)
    kept = set(keep)
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name not in kept:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed


def default_template() -> Path:
    """The mapproxy.yaml the package ships (the repository's in a checkout)."""
    from publish.resources import resource_path

    return resource_path("mapproxy.yaml")


def load_template(path: Path | None = None) -> dict[str, Any]:
    """The MapProxy template at `path` (default: `default_template()`)."""
    path = default_template() if path is None else Path(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WmsConfigError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("grids"), dict):
        raise WmsConfigError(f"{path}: not a MapProxy configuration with grids")
    missing = [g for g in GRIDS if g not in doc["grids"]]
    if missing:
        raise WmsConfigError(f"{path}: grids {missing} are missing")
    return doc


def _union(boxes: Iterable[Any]) -> list[float] | None:
    boxes = [b for b in boxes if isinstance(b, list | tuple) and len(b) == 4]
    if not boxes:
        return None
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def audience_layers(manifest: Mapping[str, Any], audience: str) -> list[dict[str, Any]]:
    """The audience's catalog entries (id, title, bounds), in catalog order."""
    entry = (manifest.get("audiences") or {}).get(audience)
    if not isinstance(entry, dict):
        raise WmsConfigError(f"release {manifest.get('release')}: no audience {audience!r}")
    allowed = set(entry.get("layers") or ())
    info = manifest.get("layers") or {}
    out = []
    for item in (manifest.get("catalog") or {}).get("layers", []):
        if item.get("id") in allowed:
            bounds = (info.get(item["id"]) or {}).get("bounds")
            out.append({"id": item["id"], "title": item.get("title") or {}, "bounds": bounds})
    return out


def _title(title: Mapping[str, Any], fallback: str) -> str:
    return " ".join(str(t) for t in (title.get("zh"), title.get("en")) if t) or fallback


def mapproxy_config(
    release_root: Path,
    audience: str,
    cache_dir: Path,
    template: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete MapProxy configuration (a dict) for `audience` of the release at
    `release_root`, caching under `cache_dir`."""
    from publish.release.manifest import read_manifest

    root = Path(release_root).resolve()
    manifest = read_manifest(root)
    doc = copy.deepcopy(dict(template if template is not None else load_template()))
    generator = doc.pop(_GENERATOR_KEY, None) or {}
    cache_opts = dict(generator.get("cache") or {})
    layers = audience_layers(manifest, audience)
    everything = _union(layer["bounds"] for layer in layers)

    wms = doc.setdefault("services", {}).setdefault("wms", {})
    crs = str(manifest.get("crs") or DEFAULT_CRS)  # releases before `crs` was recorded: 4546
    for key in ("srs", "bbox_srs"):
        wms[key] = list(dict.fromkeys([*(wms.get(key) or ()), crs]))

    globals_ = doc.setdefault("globals", {})
    cache_globals = globals_.setdefault("cache", {})
    cache_globals["base_dir"] = str(cache_dir)
    cache_globals["lock_dir"] = str(Path(cache_dir) / "locks")
    cache_globals["tile_lock_dir"] = str(Path(cache_dir) / "locks" / "tiles")

    sources: dict[str, Any] = {}
    caches: dict[str, Any] = {}
    wms_layers: list[dict[str, Any]] = []
    entries = [{"id": PLAN, "title": {}, "bounds": everything}, *layers]
    for layer in entries:
        lid = layer["id"]
        source: dict[str, Any] = {
            "type": SOURCE_TYPE,
            "release": str(root),
            "audience": audience,
            "layer": lid,
            "grid": WEBMERCATOR,
        }
        bounds = layer["bounds"] or everything
        if bounds:
            source["coverage"] = {"bbox": list(bounds), "srs": "EPSG:4326"}
        sources[f"{lid}_render"] = source
        caches[lid] = {**cache_opts, "grids": [WEBMERCATOR], "sources": [f"{lid}_render"]}
        caches[f"{lid}_{CGCS2000}"] = {**cache_opts, "grids": [CGCS2000], "sources": [lid]}
        title = _PLAN_TITLES.get(audience, PLAN) if lid == PLAN else _title(layer["title"], lid)
        wms_layers.append(
            {
                "name": lid,
                "title": title,
                "sources": [lid],
                "tile_sources": [lid, f"{lid}_{CGCS2000}"],
            }
        )
    doc["sources"] = sources
    doc["caches"] = caches
    doc["layers"] = wms_layers
    return doc


def write_config(doc: Mapping[str, Any], path: Path) -> Path:
    """Write `doc` to `path` atomically (another process may be reading it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mapproxy-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(dict(doc), out, allow_unicode=True, sort_keys=False)
    os.replace(tmp, path)
    return path


def release_config(
    data_dir: Path, release_root: Path, audience: str, template: Path | None = None
) -> Path:
    """Generate and write the configuration of `audience` of a release into its cache folder;
    its path."""
    root = Path(release_root).resolve()
    cache_dir = release_cache_dir(data_dir, root.name, audience)
    doc = mapproxy_config(root, audience, cache_dir, load_template(template))
    return write_config(doc, cache_dir / CONFIG_NAME)
