"""Tests for publish.tiles.inputs: layers written as GeoJSONSeq for tippecanoe."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from publish.errors import BuildError
from publish.tiles.inputs import LayerInput, write_geojsonseq
from tests.tiles.frames import NAMES, batches, parcels, places


def test_write_geojsonseq_lines_ids_properties(tmp_path: Path) -> None:
    gdf = parcels(4, 3)
    gdf.loc[5, "geometry"] = None  # skipped, but keeps its row number
    gdf.loc[6, "geometry"] = shapely.Polygon()
    out = tmp_path / "p.geojsonl"
    n = write_geojsonseq(batches(gdf, 5), out, ["DLMC", "MJ", "GHYT"], minzoom=3, maxzoom=9)
    assert n == 10
    text = out.read_text(encoding="utf-8")
    assert "水田" in text and "\\u" not in text  # UTF-8, not escaped
    feats = [json.loads(line) for line in text.splitlines()]
    assert len(feats) == 10
    assert [f["id"] for f in feats] == [1, 2, 3, 4, 5, 8, 9, 10, 11, 12]
    for f in feats:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == "Polygon"
        assert set(f["properties"]) <= {"DLMC", "MJ", "GHYT"}
        assert isinstance(f["properties"]["MJ"], float)
        assert f["tippecanoe"] == {"minzoom": 3, "maxzoom": 9}
    assert feats[0]["properties"]["GHYT"] is None  # NaN → null


def test_write_geojsonseq_id_field_and_errors(tmp_path: Path) -> None:
    gdf = places()
    gdf["BSM"] = np.array([40, 30, 20, 10], dtype=np.int64)
    out = tmp_path / "pts.geojsonl"
    assert write_geojsonseq([gdf], out, ["NAME"], id_field="BSM") == 4
    feats = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [f["id"] for f in feats] == [40, 30, 20, 10]
    assert "tippecanoe" not in feats[0]
    assert feats[3]["properties"] == {"NAME": NAMES[3]}

    gdf.loc[1, "BSM"] = 40
    with pytest.raises(BuildError, match="duplicate"):
        write_geojsonseq([gdf], out, ["NAME"], id_field="BSM")
    with pytest.raises(BuildError, match="not columns"):
        write_geojsonseq([gdf], out, ["NOPE"])
    with pytest.raises(BuildError, match="EPSG:4326"):
        write_geojsonseq([gdf.to_crs(3857)], out, ["NAME"])


def test_an_unknown_geometry_kind_is_refused(tmp_path: Path) -> None:
    """The check sat after a `return` (never ran) until the read-through found it."""
    with pytest.raises(ValueError, match="unknown geometry kind 'blob'"):
        LayerInput("a", tmp_path / "a.geojsonl", 0, 1, "blob", 3)
    assert LayerInput("a", tmp_path / "a.geojsonl", 0, 1, None, 3).geometry is None


def test_features_without_ids_appended_after_the_layer(tmp_path: Path) -> None:
    """An overview (publish.tiles.overview) goes after the layer's features, without ids."""
    path = tmp_path / "layer.geojsonl"
    assert write_geojsonseq([parcels(2, 1)], path, ["DLBM"], minzoom=12) == 2
    added = write_geojsonseq(
        [parcels(3, 1)], path, ["DLBM"], minzoom=8, maxzoom=11, with_ids=False, append=True
    )
    assert added == 3
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [f.get("id") for f in lines] == [1, 2, None, None, None]
    assert [f["tippecanoe"] for f in lines] == [{"minzoom": 12}] * 2 + [
        {"minzoom": 8, "maxzoom": 11}
    ] * 3
    assert all(list(f["properties"]) == ["DLBM"] for f in lines)
