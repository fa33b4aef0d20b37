"""The audience guard covers /raster/internal… like the other internal paths."""

from __future__ import annotations

from publish.server.guard import is_internal_path


def test_raster_internal_paths_are_guarded() -> None:
    assert is_internal_path("/raster/internal/10/1/2.png")
    assert is_internal_path("/raster/internal")
    assert is_internal_path("/internal/wms")
    assert is_internal_path("/internal/wmts/1.0.0/WMTSCapabilities.xml")
    assert not is_internal_path("/raster/public/10/1/2.png")
    assert not is_internal_path("/raster/internals/10/1/2.png")
    assert not is_internal_path("/wms")
