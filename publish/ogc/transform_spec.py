"""pygeoapi's CRS transform spec of a feature request, made once per collection CRS and `crs`.

For every items (and item) request pygeoapi's `create_crs_transform_spec` checks the `crs`
parameter against the collection's CRS list and builds two pyproj CRS objects from URIs to learn
whether the answer needs a transformation: ~7 % of the CPU of a small items request. What it
answers depends only on the provider's `storage_crs`, its `crs` list and the requested CRS, all
fixed for a release, so `use_cached_specs` replaces the name in pygeoapi.api.itemtypes (what
get_collection_items and get_collection_item call) once, at the first API built
(publish.ogc.service), with a version that keeps the answers (the spec holds only text, and
nobody changes it). Refusals (an unsupported or unknown CRS) are not kept: each is raised anew.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()
_installed = False
_KEPT = 256  # specs kept (collection CRS lists × requested CRSs)


def _cached(original: Callable[..., Any]) -> Callable[..., Any]:
    """`original` (pygeoapi's create_crs_transform_spec) with its answers kept."""
    from pygeoapi.api.itemtypes import DEFAULT_CRS_LIST
    from pygeoapi.util import get_supported_crs_list

    @lru_cache(maxsize=_KEPT)
    def spec(storage: tuple[str, ...], supported: tuple[str, ...], query: str | None) -> Any:
        config: dict[str, Any] = {"crs": list(supported)}
        if storage:
            config["storage_crs"] = storage[0]
        return original(config, query)

    def create_crs_transform_spec(config: dict[str, Any], query_crs_uri: str | None = None) -> Any:
        # as pygeoapi's own: the provider's list gets the default CRS when it lacks one
        supported = tuple(get_supported_crs_list(config, DEFAULT_CRS_LIST))
        storage = (config["storage_crs"],) if "storage_crs" in config else ()
        return spec(storage, supported, query_crs_uri)

    return create_crs_transform_spec


def use_cached_specs() -> None:
    """Have pygeoapi.api.itemtypes make each CRS transform spec once (see above)."""
    global _installed
    with _LOCK:
        if _installed:
            return
        from pygeoapi.api import itemtypes

        itemtypes.create_crs_transform_spec = _cached(itemtypes.create_crs_transform_spec)
        _installed = True
