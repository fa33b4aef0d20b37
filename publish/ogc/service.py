"""One audience's OGC API in one release: its pygeoapi configuration and `API` objects.

pygeoapi's own Starlette app builds a single `API` at import time from PYGEOAPI_CONFIG; we build
`pygeoapi.api.API(config, openapi)` ourselves instead, one per audience and base URL (pygeoapi
writes `server.url` into every link, and clients may reach the server by different names), and
call pygeoapi's request functions with it (`publish.ogc.routes`). A service belongs to a loaded
release and is dropped with it, so a request keeps the configuration it started with, and so
do the GeoPackage feature providers it keeps (publish.ogc.providers).

Loading checks what pygeoapi would only find on the first request: every GeoPackage table opens
and has its R-tree, every archive opens, every PostGIS table (our PostgreSQL provider or
pygeoapi's, in deployments on PostGIS: publish.ogc.postgis) can be reached. The service holds
those open files while it lives.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from publish.errors import ReleaseError
from publish.gpkg.errors import GeoPackageError
from publish.gpkg.reader import open_geopackage
from publish.ogc.config import (
    FEATURE_PROVIDER,
    TILE_PROVIDER,
    collections,
    read_config,
    resolve_config,
    with_url,
)
from publish.ogc.encoding import use_orjson
from publish.ogc.providers import KeptProviders, use_kept_providers
from publish.ogc.transform_spec import use_cached_specs
from publish.tiles.archive import ArchiveError

log = logging.getLogger("publish.ogc")


_APIS_KEPT = 4  # API objects per service (one per base URL clients use)
_BUILD_LOCK = threading.Lock()


@contextmanager
def _no_logging_setup() -> Iterator[None]:
    """pygeoapi's API() calls logging.basicConfig, which would give the root logger a stdout
    handler and a level when it has no handler yet; the server configures logging itself."""
    root = logging.getLogger()
    placeholder = None if root.handlers else logging.NullHandler()
    if placeholder is not None:
        root.addHandler(placeholder)
    try:
        yield
    finally:
        if placeholder is not None:
            root.removeHandler(placeholder)


class _NoConfigCache(dict[Any, Any]):
    """Stands in for pygeoapi's `l10n._cfg_cache`, which keeps the first configuration it
    translated for a language and hands it to every later HTML page in that language, whatever
    API renders it: the public and internal APIs, every base URL and every release share it. An
    internal collection's page then failed (the public configuration has no such resource) and
    pages of a new release showed the old one's links. Nothing is kept: each HTML page translates
    its own API's configuration (a deep copy, ~1 ms)."""

    def get(self, key: Any, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def build_api(config: Mapping[str, Any]) -> Any:
    """pygeoapi's API for `config` (its OpenAPI document is made on first request)."""
    from pygeoapi import l10n
    from pygeoapi.api import API

    use_orjson()
    use_cached_specs()
    use_kept_providers()
    if not isinstance(l10n._cfg_cache, _NoConfigCache):
        l10n._cfg_cache = _NoConfigCache()
    with _BUILD_LOCK, _no_logging_setup():
        return API(copy.deepcopy(dict(config)), {})


def provider_of(resource: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The resource's first provider of type `kind` (feature, tile), if any."""
    for provider in resource.get("providers") or []:
        if isinstance(provider, dict) and provider.get("type") == kind:
            return provider
    return None


class OgcService:
    """An audience's OGC API: `config` has absolute data paths and no `server.url` yet."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.collections = frozenset(collections(config))
        self._apis: OrderedDict[str, Any] = OrderedDict()
        self._tile_providers: dict[str, Any] = {}
        self.providers = KeptProviders()  # our GeoPackage feature providers (publish.ogc.providers)
        self._lock = threading.Lock()
        self._held: list[object] = []  # files kept open while the release is served
        # every feature collection on our GeoPackage provider (or none): its requests work one
        # at a time in a process (publish.ogc.threads.one_at_a_time)
        self.serial = all(
            (feature := provider_of(resource, "feature")) is None
            or feature.get("name") == FEATURE_PROVIDER
            for resource in collections(config).values()
        )

    @classmethod
    def from_release(cls, root: Path, relpath: str, layers: Collection[str]) -> OgcService:
        """The service for the config `relpath` of the release at `root`; ReleaseError when the
        config is unreadable, lists collections not in `layers`, or its data cannot be served."""
        path = Path(root) / relpath
        config = resolve_config(read_config(path), Path(root), layers, source=str(path))
        service = cls(config)
        service.open_data()
        return service

    def open_data(self) -> None:
        """Open every GeoPackage table and archive our providers will read, and keep them."""
        from publish.ogc.postgis import (
            POSTGRESQL_PROVIDER,
            STOCK_POSTGRESQL_PROVIDER,
            open_provider,
        )
        from publish.ogc.tiles import open_archive

        for cid, resource in collections(self.config).items():
            feature = provider_of(resource, "feature")
            if feature is not None and feature.get("name") == FEATURE_PROVIDER:
                try:
                    gpkg = open_geopackage(feature["data"])
                    table = gpkg.table(str(feature.get("table") or cid))
                except (GeoPackageError, KeyError) as exc:
                    raise ReleaseError(f"collection {cid}: {exc}") from exc
                if table.rtree is None:
                    raise ReleaseError(f"collection {cid}: table {table.name} has no R-tree")
                self._held.append(gpkg)
            elif feature is not None and feature.get("name") in (
                POSTGRESQL_PROVIDER,
                STOCK_POSTGRESQL_PROVIDER,
            ):  # deployments on PostGIS (publish.ogc.postgis)
                self._held.append(open_provider(feature, f"collection {cid}"))
            tile = provider_of(resource, "tile")
            if tile is not None and tile.get("name") == TILE_PROVIDER:
                try:
                    self._held.append(open_archive(str(tile["data"])))
                except (OSError, ArchiveError, KeyError) as exc:
                    raise ReleaseError(f"collection {cid}: tiles: {exc}") from exc

    def api(self, url: str) -> Any:
        """pygeoapi's API serving at `url` (the mount's absolute URL), built once per URL."""
        with self._lock:
            api = self._apis.get(url)
            if api is not None:
                self._apis.move_to_end(url)
                return api
        api = build_api(with_url(self.config, url))
        with self._lock:
            api = self._apis.setdefault(url, api)
            while len(self._apis) > _APIS_KEPT:
                self._apis.popitem(last=False)
        return api

    def ensure_openapi(self, api: Any, routes: Sequence[BaseRoute]) -> None:
        """Generate `api`'s OpenAPI document if it has none yet: pygeoapi.openapi.get_oas's,
        cut to the operations `routes` answer and made self-contained (publish.ogc.openapi)."""
        if api.openapi:
            return
        from pygeoapi.openapi import get_oas

        from publish.ogc.openapi import served_document

        with self._lock:
            if not api.openapi:
                document = get_oas(copy.deepcopy(api.config))
                api.openapi = served_document(document, routes, api.default_locale)

    def tile_provider(self, cid: str) -> Any | None:
        """Our PMTiles provider of collection `cid`; None when the collection has none (or
        another kind of tile provider, which pygeoapi's own handler serves)."""
        with self._lock:
            provider = self._tile_providers.get(cid)
        if provider is not None:
            return provider
        resource = collections(self.config).get(cid)
        definition = None if resource is None else provider_of(resource, "tile")
        if definition is None or definition.get("name") != TILE_PROVIDER:
            return None
        from publish.ogc.tiles import PMTilesProvider

        provider = PMTilesProvider(definition)
        with self._lock:
            return self._tile_providers.setdefault(cid, provider)
