"""Stock pygeoapi (its own Starlette app) for bench/serve.py, as `bench.stock_pygeoapi:APP`.

pygeoapi's SQLiteGPKG provider loads SpatiaLite into the standard library's sqlite3, which this
Python was built without (no `enable_load_extension`): pysqlite3-binary (a build of the same
module that can load extensions) stands in for it, before pygeoapi is imported. Everything else
is pygeoapi as installed. Reads PYGEOAPI_CONFIG and PYGEOAPI_OPENAPI at import (pygeoapi does).
"""

from __future__ import annotations

import sys

import pysqlite3  # type: ignore[import-not-found]

sys.modules["sqlite3"] = pysqlite3


def __getattr__(name: str) -> object:
    if name == "APP":
        from pygeoapi.starlette_app import APP

        return APP
    raise AttributeError(name)
