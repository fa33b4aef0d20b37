"""Label points (publish.features.labels): one point per named area, inside it, and the `labels`
layer of the release's archives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import shapely

from publish.catalog import load_catalog
from publish.features.labels import LABEL_FIELDS, label_points, labelled_layers
from publish.tiles.check import feature_ids_at_zoom
from tests.viewer.data import read_layer

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

CRS = "EPSG:4546"  # the sample city's working CRS, as the build passes it
X0, Y0 = 450_000.0, 3_230_000.0


def _frame(rows: list[tuple[str | None, str, shapely.Geometry]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"XZQMC": [r[0] for r in rows], "XZQDM": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


def test_an_area_in_several_rows_gets_one_point_inside_it(sample_dir: Path) -> None:
    spec = load_catalog(sample_dir / "layers.yml").layer("xzq_xian")
    # an L-shaped county in two rows (its centroid lies outside it), a square one, an unnamed row
    arm = shapely.box(X0, Y0, X0 + 10_000, Y0 + 2_000)
    leg = shapely.box(X0, Y0 + 2_000, X0 + 2_000, Y0 + 10_000)
    square = shapely.box(X0 + 20_000, Y0, X0 + 30_000, Y0 + 10_000)
    islet = shapely.box(X0 + 40_000, Y0, X0 + 40_100, Y0 + 100)  # the square county's exclave
    frame = _frame(
        [
            ("甲县", "430801", arm),
            ("甲县", "430801", leg),
            ("乙县", "430802", square),
            ("乙县", "430802", islet),
            (None, "430803", shapely.box(X0, Y0 - 5_000, X0 + 1_000, Y0 - 4_000)),
        ]
    )
    points = label_points(frame, spec)
    assert list(points.columns) == [*LABEL_FIELDS, "geometry"]
    assert points.crs.to_epsg() == 4326
    assert sorted(points["name"]) == ["乙县", "甲县"]
    assert set(points["layer"]) == {"xzq_xian"}
    local = points.to_crs(CRS).set_index("name").geometry
    l_shape = shapely.union_all([arm, leg])
    assert not l_shape.contains(l_shape.centroid)
    assert l_shape.contains(local["甲县"])
    # the pole of inaccessibility of the square is its centre (tolerance ~0.2 % of its size)
    assert local["乙县"].distance(square.centroid) < 50
    assert dict(zip(points["name"], points["code"], strict=True)) == {
        "甲县": "430801",
        "乙县": "430802",
    }


def test_only_named_admin_layers_are_labelled_from_points(sample_dir: Path) -> None:
    catalog = load_catalog(sample_dir / "layers.yml")
    assert [s.id for s in labelled_layers(catalog.layers)] == ["xzq_xian", "xzq_xiang"]


def test_the_archives_hold_one_label_point_per_area(full_release: BuildResult) -> None:
    manifest = json.loads((full_release.path / "manifest.json").read_text("utf-8"))
    catalog = load_catalog(full_release.path / "catalog.yml")
    for audience in ("public", "internal"):
        tiles = manifest["audiences"][audience]["tiles"]
        assert "labels" in tiles["extra_layers"]
        archive = full_release.path / tiles["path"]
        # every area's point is in the tiles at every zoom a label shows (distinct feature ids)
        areas = sum(
            len(read_layer(full_release.path, s.id)) for s in labelled_layers(catalog.layers)
        )
        assert areas == 74  # 4 counties and 70 townships, one row each in the sample
        for z in (6, 9, manifest["top_zoom"]):  # the county names from z6, the townships' z9
            assert len(feature_ids_at_zoom(archive, "labels", z)) == areas, z
    counties = read_layer(full_release.path, "xzq_xian")
    spec = catalog.layer("xzq_xian")
    points = label_points(counties.to_crs(catalog.crs), spec)
    for name, point in zip(points["name"], points.geometry, strict=True):
        (area,) = counties[counties["XZQMC"] == name].geometry
        assert area.contains(point)
