"""The pygeoapi configuration of each audience, generated from the catalog.

The server metadata (title, contact, languages, limits) is kept by hand in config/pygeoapi.yml;
the collections come from the catalog, so adding a layer means editing the catalog only. Data
paths are written relative to the release folder and made absolute by the server when it loads
the release (the release folder is renamed into place after it is written).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from publish.catalog import LayerSpec
from publish.crs.names import CRS84_URI, epsg_uri
from publish.domain import PUBLIC
from publish.errors import BuildError

# CRSs offered for `crs` / `bbox-crs` besides CRS84 and the city's working CRS: WGS 84 and
# CGCS2000 geographic.
GEOGRAPHIC_CRS = ("EPSG:4326", "EPSG:4490")
# Our provider plugins (publish.ogc): an R-tree GeoPackage feature provider and a PMTiles tile
# provider; pygeoapi loads them by dotted path.
FEATURE_PROVIDER = "publish.ogc.features.GeoPackageProvider"
TILE_PROVIDER = "publish.ogc.tiles.PMTilesProvider"
SITE_CHECK_PROCESSOR = "publish.sitecheck.process.SiteCheckProcessor"


def load_server_config(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BuildError(f"server config {path} cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise BuildError(f"server config {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("server"), dict):
        raise BuildError(f"server config {path}: needs a 'server' section")
    if "metadata" not in doc:
        raise BuildError(f"server config {path}: needs a 'metadata' section")
    if "resources" in doc:
        raise BuildError(
            f"server config {path}: holds 'resources'; collections come from the layer catalog"
        )
    return doc


def offered_crs(crs: str) -> list[str]:
    """The CRSs a collection offers for `crs` / `bbox-crs`, as OGC URIs: CRS84, WGS 84,
    CGCS2000 geographic and `crs`, the city's working CRS."""
    uris = [CRS84_URI, *(epsg_uri(name) for name in (*GEOGRAPHIC_CRS, crs))]
    return list(dict.fromkeys(uris))


def _collection(
    spec: LayerSpec,
    audience: str,
    *,
    bounds: Sequence[float] | None,
    top_zoom: int,
    crs: str,
) -> dict[str, Any]:
    keywords_zh = [k for k in (spec.group, spec.title_zh) if k]
    description_zh = spec.description or spec.title_zh
    provider_extra: dict[str, Any] = {}
    if spec.name_field:  # pygeoapi's HTML wants a text title; without a name it shows the id
        provider_extra["title_field"] = spec.name_field
    resource: dict[str, Any] = {
        "type": "collection",
        "title": {"zh": spec.title_zh, "en": spec.title_en},
        "description": {"zh": description_zh, "en": spec.description or spec.title_en},
        "keywords": {"zh": keywords_zh, "en": [spec.title_en]},
        "extents": {
            "spatial": {
                "bbox": [round(float(v), 7) for v in (bounds or (-180, -90, 180, 90))],
                "crs": CRS84_URI,
            }
        },
        "providers": [
            {
                "type": "feature",
                "name": FEATURE_PROVIDER,
                "data": f"features/{audience}.gpkg",
                "table": spec.id,
                "id_field": "fid",
                **provider_extra,
                "storage_crs": CRS84_URI,
                "crs": offered_crs(crs),
            },
            {
                "type": "tile",
                "name": TILE_PROVIDER,
                "data": f"tiles/{audience}.pmtiles",
                "options": {
                    "layer": spec.id,
                    "zoom": {"min": spec.minzoom, "max": top_zoom},
                    "schemes": ["WebMercatorQuad"],
                },
                "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"},
            },
        ],
    }
    return resource


def site_check_process(audience: str) -> dict[str, Any]:
    """The site-check process of an audience: it reads that audience's features only."""
    return {
        "type": "process",
        "processor": {
            "name": SITE_CHECK_PROCESSOR,
            "gpkg": f"features/{audience}.gpkg",
            "catalog": "catalog.yml",
        },
    }


def pygeoapi_config(
    server: Mapping[str, Any],
    specs: Sequence[LayerSpec],
    audience: str,
    *,
    bounds: Mapping[str, Sequence[float] | None],
    top_zoom: int,
    crs: str,
    processes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole pygeoapi document for one audience: server metadata + its collections, which
    offer `crs`, the city's working CRS, among their CRSs."""
    doc = copy.deepcopy(dict(server))
    resources: dict[str, Any] = {}
    for spec in specs:
        if audience == PUBLIC and not spec.is_public:
            raise BuildError(f"layer {spec.id} is internal and cannot be a public collection")
        resources[spec.id] = _collection(
            spec, audience, bounds=bounds.get(spec.id), top_zoom=top_zoom, crs=crs
        )
    for name, process in (processes or {}).items():
        resources[name] = copy.deepcopy(dict(process))
    doc["resources"] = resources
    return doc


def write_config(doc: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(dict(doc), allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )
