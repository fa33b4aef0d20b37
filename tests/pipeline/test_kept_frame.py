"""A layer kept in the working CRS while it is streamed (LayerOutput.kept) is the layer's table
read back and projected, as the analysis read it before: same rows, columns and geometries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from publish.catalog import load_catalog
from publish.indicators.compute import COVERAGE_TEST_FROM
from publish.pipeline.build import BuildResult
from publish.pipeline.layer import LayerBuild
from publish.release.manifest import read_manifest


@pytest.mark.parametrize("layer_id", ["dltb", "yjjbnt", "xzq_xian", "cun"])
def test_kept_frame_is_the_table_read_back(sample_dir: Path, tmp_path: Path, layer_id: str) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    spec = catalog.layer(layer_id)
    build = LayerBuild(
        spec, tmp_path, "f" * 64, top_zoom=14, crs=catalog.crs, batch_size=700, keep_frame=True
    )
    out = build.prepare()
    kept = out.kept
    assert kept is not None and not out.blocked
    table = pyogrio.read_dataframe(out.features_path, layer=layer_id, fid_as_index=True)
    table = table.to_crs(catalog.crs)
    assert list(kept.index) == list(table.index) and len(kept) == out.count
    assert kept.crs == table.crs
    assert set(table.columns) <= set(kept.columns)
    for column in table.columns.drop("geometry"):
        left, right = kept[column].to_numpy(), table[column].to_numpy()
        if column == "area_m2":
            np.testing.assert_allclose(left.astype(float), right.astype(float), equal_nan=True)
        else:
            assert [str(v) for v in left] == [str(v) for v in right], column
    mine = np.asarray(kept.geometry.array, dtype=object)
    theirs = np.asarray(table.geometry.array, dtype=object)
    # the table stores polygons as multipolygons: the same coordinates, part by part
    assert len(shapely.get_parts(mine)) == len(shapely.get_parts(theirs))
    np.testing.assert_allclose(
        shapely.get_coordinates(mine), shapely.get_coordinates(theirs), rtol=0, atol=1e-6
    )
    build.abandon()


def test_not_kept_unless_asked(sample_dir: Path, tmp_path: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    build = LayerBuild(catalog.layer("xzq_xian"), tmp_path, "e" * 64, top_zoom=14, crs=catalog.crs)
    assert build.prepare().kept is None
    build.abandon()


def test_the_model_layers_coverage_is_tested_in_the_background(full_release: BuildResult) -> None:
    """The sample's model reads the current-use parcels and the farmland (2,000 and ~7,000
    features: large enough for the test): each was tested once while the build read the other
    layers, the log says so, and the small layers the model reads were not tested."""
    manifest = read_manifest(full_release.path)
    tested = [
        line.split("coverage test of ", 1)[1]
        for line in manifest["log"]
        if "coverage test of " in line
    ]
    layers = [line.split(":", 1)[0] for line in tested]
    large = {
        lid for lid, info in manifest["layers"].items() if info["features"] >= COVERAGE_TEST_FROM
    }
    assert "dltb" in layers and len(layers) == len(set(layers))
    assert set(layers) <= large and "stbhhx" not in layers
    assert all(line.endswith("(a coverage)") for line in tested)
