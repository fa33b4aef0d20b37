"""Tests for publish.tiles.check: what tippecanoe wrote, counted by feature id."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from publish.errors import BuildError
from publish.tiles.check import count_features_at_zoom, feature_ids_at_zoom
from publish.tiles.inputs import LayerInput, write_layer
from publish.tiles.job import run_tippecanoe
from tests.tiles.frames import LAT0, LON0, parcels


def test_every_feature_at_maxzoom(built: tuple[Path, dict[str, LayerInput]]) -> None:
    out, inputs = built
    for layer in inputs.values():
        ids = feature_ids_at_zoom(out, layer.id, layer.maxzoom)
        assert ids == set(range(1, layer.features + 1)), layer.id
    assert count_features_at_zoom(out, "land_use", 14) == 300
    # per-layer zoom ranges are honoured in the tiles
    assert count_features_at_zoom(out, "roads", 14) == 0
    assert count_features_at_zoom(out, "roads", 9) == 0
    assert count_features_at_zoom(out, "places", 11) == 0


def test_too_dense_for_maxzoom_fails(tmp_path: Path) -> None:
    """Features tippecanoe drops at maxzoom (here: polygons below one tile unit) fail the build."""
    gdf = parcels(3, 1)
    gdf.loc[1, "geometry"] = shapely.box(LON0 + 0.0015, LAT0, LON0 + 0.0015001, LAT0 + 0.0000001)
    layer = write_layer([gdf], tmp_path / "s.geojsonl", "s", ["DLBM"], minzoom=12, maxzoom=14)
    with pytest.raises(BuildError, match="2 of its 3 features"):
        run_tippecanoe([layer], tmp_path / "s.pmtiles", "s")
    run_tippecanoe([layer], tmp_path / "s.pmtiles", "s", require_complete=False)
    assert count_features_at_zoom(tmp_path / "s.pmtiles", "s", 14) == 2
