"""The audience guard covers /raster/internal… like the other internal paths."""

from __future__ import annotations

from publish.app import route_table
from publish.server.guard import InternalPaths


def test_raster_internal_paths_are_guarded() -> None:
    internal = InternalPaths.from_routes(route_table())
    assert "/raster/internal/10/1/2.png" in internal
    assert "/raster/internal" in internal
    assert "/internal/wms" in internal
    assert "/internal/wmts/1.0.0/WMTSCapabilities.xml" in internal
    assert "/raster/public/10/1/2.png" not in internal
    assert "/raster/internals/10/1/2.png" not in internal
    assert "/wms" not in internal
