"""Our GeoPackage feature providers, made once per collection of a served release, not per request.

pygeoapi's feature functions (pygeoapi.api.itemtypes: items, item, queryables, schema) make the
collection's provider on every request with `load_plugin('provider', definition)`; for our
GeoPackageProvider (publish.ogc.features) that is an import lookup, the GeoPackage's FileCache
lookup (an `os.stat`, whose release of the GIL lets the other threads in, and a lock), the
table's layout and its published fields. `use_kept_providers` replaces the `load_plugin` name in
pygeoapi.api.itemtypes once, at the first API built (publish.ogc.service), with one that hands
out the provider the request's service keeps for that definition (`serving(service)`, which the
OGC routes open around pygeoapi's call); other plugins, and calls outside `serving`, are loaded
as pygeoapi loads them.

A kept provider belongs to one `OgcService`, and so to one loaded release: after a release switch
new requests get the new release's service and its providers, while requests still running on
the old one keep theirs. Our provider holds nothing of a request (each query works on its own
arguments; the GeoPackage gives each thread its own connection), so threads share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from publish.ogc.config import FEATURE_PROVIDER

_LOCK = threading.Lock()
_installed = False
# definitions found by identity: each API's copies (a service keeps a few APIs, one per base URL
# clients use, and drops the oldest); past this many, the shortcut starts again from empty
_KEPT_OBJECTS = 256


class KeptProviders:
    """Providers by their definition: the same definition object (each API's configuration has
    its own copy) finds its provider by identity; equal definitions share one provider."""

    def __init__(self) -> None:
        # id → (the definition, held so that its id is not reused while kept; its provider)
        self._by_object: dict[int, tuple[Mapping[str, Any], Any]] = {}
        self._by_content: dict[str, Any] = {}
        self._lock = threading.Lock()

    def provider(self, definition: Mapping[str, Any], make: Callable[[Any], Any]) -> Any:
        """The provider kept for `definition`, made by `make(definition)` the first time."""
        entry = self._by_object.get(id(definition))
        if entry is not None and entry[0] is definition:
            return entry[1]
        key = repr(sorted(definition.items()))  # keys are unique: values are never compared
        with self._lock:
            provider = self._by_content.get(key)
        if provider is None:
            made = make(definition)  # outside the lock: it opens files; raises as pygeoapi's
            with self._lock:
                provider = self._by_content.setdefault(key, made)
        with self._lock:
            if len(self._by_object) >= _KEPT_OBJECTS:  # APIs dropped since: let theirs go
                self._by_object.clear()
            self._by_object[id(definition)] = (definition, provider)
        return provider


class _Service(Protocol):
    providers: KeptProviders


_SERVICE: ContextVar[_Service | None] = ContextVar("onemap_ogc_service", default=None)


@contextmanager
def serving(service: _Service) -> Iterator[None]:
    """Within: pygeoapi's feature functions get `service`'s kept GeoPackage providers."""
    token = _SERVICE.set(service)
    try:
        yield
    finally:
        _SERVICE.reset(token)


def _kept(original: Callable[[str, dict[str, Any]], Any]) -> Callable[[str, dict[str, Any]], Any]:
    """`original` (pygeoapi's load_plugin), our GeoPackage providers kept by the service."""

    def load_plugin(plugin_type: str, plugin_def: dict[str, Any]) -> Any:
        service = _SERVICE.get()
        if (
            service is None
            or plugin_type != "provider"
            or plugin_def.get("name") != FEATURE_PROVIDER
        ):
            return original(plugin_type, plugin_def)
        return service.providers.provider(plugin_def, lambda d: original(plugin_type, d))

    return load_plugin


def use_kept_providers() -> None:
    """Have pygeoapi.api.itemtypes take our GeoPackage providers from the request's service."""
    global _installed
    with _LOCK:
        if _installed:
            return
        from pygeoapi.api import itemtypes

        itemtypes.load_plugin = _kept(itemtypes.load_plugin)
        _installed = True
