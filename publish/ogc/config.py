"""A release's pygeoapi configuration (ogc/<audience>.yml): written by the build, read back by
the server.

Writing: the server metadata (title, contact, languages, limits) is kept by hand in
config/pygeoapi.yml; the collections come from the catalog, so adding a layer means editing the
catalog only. Data paths are written relative to the release folder (the folder is renamed into
place after it is written).

Reading: the data paths become absolute, and the document is refused when it would publish a
collection the audience does not have, or points outside the release. `server.url` is set later,
per base URL (service.OgcService), because it depends on where clients reach the server.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from publish.catalog import LayerSpec
from publish.checks.layer import CODE_ROLES
from publish.crs.names import CRS84_URI, epsg_uri
from publish.domain import PUBLIC
from publish.errors import BuildError, ReleaseError

# CRSs offered for `crs` / `bbox-crs` besides CRS84 and the city's working CRS: WGS 84 and
# CGCS2000 geographic.
GEOGRAPHIC_CRS = ("EPSG:4326", "EPSG:4490")
# Our provider plugins (publish.ogc): an R-tree GeoPackage feature provider and a PMTiles tile
# provider; pygeoapi loads them by dotted path.
FEATURE_PROVIDER = "publish.ogc.features.GeoPackageProvider"
TILE_PROVIDER = "publish.ogc.tiles.PMTilesProvider"
SITE_CHECK_PROCESSOR = "publish.sitecheck.process.SiteCheckProcessor"
# The monitoring's county map (publish.indicators.tables): a collection besides the layers'.
INDICATORS_COLLECTION = "indicators"


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


def _extents(bounds: Sequence[float] | None) -> dict[str, Any]:
    box = bounds or (-180, -90, 180, 90)
    return {"spatial": {"bbox": [round(float(v), 7) for v in box], "crs": CRS84_URI}}


def _feature_provider(audience: str, table: str, crs: str, **extra: Any) -> dict[str, Any]:
    """Our GeoPackage feature provider on `table` of the audience's feature store."""
    return {
        "type": "feature",
        "name": FEATURE_PROVIDER,
        "data": f"features/{audience}.gpkg",
        "table": table,
        "id_field": "fid",
        **extra,
        "storage_crs": CRS84_URI,
        "crs": offered_crs(crs),
    }


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
    if spec.name_field:  # pygeoapi's HTML wants a text title; `q` searches it too
        provider_extra["title_field"] = spec.name_field
    if spec.code_field and spec.role in CODE_ROLES:  # national codes: queryables' names, `q`
        provider_extra["code_field"] = spec.code_field
    resource: dict[str, Any] = {
        "type": "collection",
        "title": {"zh": spec.title_zh, "en": spec.title_en},
        "description": {"zh": description_zh, "en": spec.description or spec.title_en},
        "keywords": {"zh": keywords_zh, "en": [spec.title_en]},
        "extents": _extents(bounds),
        "providers": [
            _feature_provider(audience, spec.id, crs, **provider_extra),
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


def indicators_collection(
    audience: str, table: str, *, bounds: Sequence[float] | None, crs: str
) -> dict[str, Any]:
    """The collection `indicators`: the counties with one column per indicator value and
    `<id>_status` (publish.indicators.tables), from the audience's feature store."""
    return {
        "type": "collection",
        "title": {"zh": "规划指标（分县）", "en": "Plan indicators by county"},
        "description": {
            "zh": "各县指标值与状态（达标、预警、未达标）",
            "en": "Each county's indicator values and status (ok, warning, breach)",
        },
        "keywords": {"zh": ["实施监督", "规划指标"], "en": ["monitoring", "indicators"]},
        "extents": _extents(bounds),
        "providers": [_feature_provider(audience, table, crs, title_field="name")],
    }


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


# -- reading -----------------------------------------------------------------------------------

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
    unknown = sorted(set(collections(out)) - set(layers) - {INDICATORS_COLLECTION})
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
