"""pygeoapi's items and queryables answers encoded with orjson instead of the json module.

A page of 100 parcels is ~70 KB of JSON; pygeoapi encodes it with `json.dumps` (pure Python
around a C scanner: ~1.2 ms a page), orjson in ~0.07 ms, and the geometries it holds were
decoded from shapely's GeoJSON text the same way (publish.ogc.geometry). The encoding is the
same JSON: the same keys in the same order, numbers with the shortest repr that reads back the
same (both use it), text as UTF-8 where the json module writes \\u escapes (both are JSON; the
answer is application/geo+json in UTF-8), and NaN as null where the json module writes the
invalid `NaN`. Compact answers stay the bytes orjson writes (pygeoapi hands `to_json`'s
result on untouched, and the server sends bytes: decoding them to text and encoding that again
cost ~40 µs a page of CJK attributes). Pretty-printed answers (`pretty_print` in the
configuration) keep pygeoapi's own encoder. `use_orjson` replaces the `to_json` name of pygeoapi.api.itemtypes (what
get_collection_items and get_collection_queryables call) once, at the first API built
(publish.ogc.service), never at import.

An items answer that `compact_json` will encode (GeoJSON, not pretty: the items routes open
`compact_answer` around pygeoapi's call) may hold its geometries' coordinates as numpy arrays
(publish.ogc.geometry.geojson_arrays), which orjson's numpy option writes: the provider asks
`arrays_allowed()`. pygeoapi's HTML, JSON-LD and CSV answers read the geometries, so they get
plain dicts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_LOCK = threading.Lock()
_installed = False
_ARRAYS: ContextVar[bool] = ContextVar("onemap_geometry_arrays", default=False)
COMPACT_FORMATS = frozenset({None, "json"})  # pygeoapi's `request.format` of a GeoJSON answer


def compact_json(dict_: dict[str, Any], pretty: bool = False) -> str | bytes:
    """pygeoapi.util.to_json's contract (a dict to JSON), compact answers as orjson's UTF-8
    bytes, pretty ones as pygeoapi's text."""
    from pygeoapi.util import json_serial, to_json

    if pretty:
        return str(to_json(dict_, pretty))
    return orjson.dumps(dict_, default=json_serial, option=_OPTIONS)


def use_orjson() -> None:
    """Have pygeoapi's feature answers (pygeoapi.api.itemtypes) encoded by `compact_json`."""
    global _installed
    with _LOCK:
        if _installed:
            return
        from pygeoapi.api import itemtypes

        itemtypes.to_json = compact_json
        _installed = True


@contextmanager
def compact_answer(compact: bool) -> Iterator[None]:
    """Within: the answer being made is encoded by `compact_json` when `compact` is true (and
    orjson is in use), so geometries may hold numpy arrays."""
    token = _ARRAYS.set(compact and _installed)
    try:
        yield
    finally:
        _ARRAYS.reset(token)


def arrays_allowed() -> bool:
    """The answer being made takes geometries whose coordinates are numpy arrays (see
    `compact_answer`)."""
    return _ARRAYS.get()
