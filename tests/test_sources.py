"""Tests for publish.sources: encodings, CRS declaration and reprojection, GCJ-02, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS, Transformer
from shapely.geometry import Point

from publish.catalog import LayerSpec
from publish.crs.gcj02 import wgs84_to_gcj02
from publish.errors import SourceError
from publish.sources import (
    is_gcj02,
    iter_batches,
    layer_crs,
    missing_fields,
    read_layer,
    read_layer_native,
)

NAMES = ["永久基本农田", "张家界"]
# Two points near Zhangjiajie in CGCS2000 / 3-degree GK zone 37 (EPSG:4546, CM 111°E).
XY_4546 = [(500000.0 - 50_000.0, 3_250_000.0), (500_000.0 + 12_345.678, 3_230_000.0)]


def spec_for(source: Path, **kwargs: Any) -> LayerSpec:
    values: dict[str, Any] = {
        "id": "test_layer",
        "title_zh": "测试",
        "title_en": "Test",
        "source": source,
        "access": "public",
        "role": "other",
        "fields": ("BSM", "MC"),
    }
    values.update(kwargs)
    return LayerSpec(**values)


def write_gbk_shapefile(path: Path, cpg: str | None) -> None:
    frame = gpd.GeoDataFrame(
        {"BSM": ["1", "2"], "MC": NAMES},
        geometry=[Point(xy) for xy in XY_4546],
        crs="EPSG:4546",
    )
    frame.to_file(path, engine="pyogrio", encoding="GBK")
    cpg_path = path.with_suffix(".cpg")
    cpg_path.unlink(missing_ok=True)
    if cpg is not None:
        cpg_path.write_text(cpg, encoding="ascii")


def test_gbk_shapefile_without_cpg_needs_catalog_encoding(tmp_path: Path) -> None:
    path = tmp_path / "yjjbnt.shp"
    write_gbk_shapefile(path, cpg=None)
    assert not path.with_suffix(".cpg").exists()

    right = read_layer(spec_for(path, encoding="GBK", crs="EPSG:4546"))
    assert right["MC"].tolist() == NAMES

    # Without the catalog's encoding GDAL guesses (ISO-8859-1 for a DBF without .cpg or LDID):
    # the text comes out as mojibake.
    wrong = read_layer(spec_for(path))
    assert wrong["MC"].tolist() != NAMES
    assert wrong["MC"].tolist() == [name.encode("gbk").decode("latin-1") for name in NAMES]


@pytest.mark.parametrize("lying_cpg", ["UTF-8", "1252"])
def test_catalog_encoding_overrides_lying_cpg(tmp_path: Path, lying_cpg: str) -> None:
    path = tmp_path / "czkfbj.shp"
    write_gbk_shapefile(path, cpg=lying_cpg)
    frame = read_layer(spec_for(path, encoding="GBK"))
    assert frame["MC"].tolist() == NAMES


def test_lying_utf8_cpg_without_catalog_encoding_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "czkfbj.shp"
    write_gbk_shapefile(path, cpg="UTF-8")
    with pytest.raises(SourceError, match=r"test_layer.*encoding"):
        read_layer(spec_for(path))


def test_gpkg_in_4490_keeps_lon_lat(tmp_path: Path) -> None:
    path = tmp_path / "xzq.gpkg"
    lon, lat = 110.479191, 29.117096
    frame = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[Point(lon, lat)], crs="EPSG:4490")
    frame.to_file(path, layer="xzq_xian", engine="pyogrio")
    frame.to_file(path, layer="other", engine="pyogrio")
    spec = spec_for(path, layer="xzq_xian")

    assert layer_crs(spec) == CRS.from_epsg(4490)
    native = read_layer_native(spec)
    assert native.crs == CRS.from_epsg(4490)
    out = read_layer(spec)
    assert out.crs == CRS.from_epsg(4326)
    point = out.geometry.iloc[0]
    assert abs(point.x - lon) < 1e-9
    assert abs(point.y - lat) < 1e-9


def test_shapefile_4546_reprojects_within_a_metre(tmp_path: Path) -> None:
    path = tmp_path / "dl.shp"
    write_gbk_shapefile(path, cpg=None)
    out = read_layer(spec_for(path, encoding="GBK"))
    to_wgs = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True)
    geod = CRS.from_epsg(4326).get_geod()
    assert geod is not None
    for (x, y), point in zip(XY_4546, out.geometry, strict=True):
        lon, lat = to_wgs.transform(x, y)
        assert 109.0 < lon < 112.0 and 28.0 < lat < 30.0
        _, _, dist = geod.inv(lon, lat, point.x, point.y)
        assert dist < 1.0


def test_catalog_crs_overrides_file_crs(tmp_path: Path) -> None:
    # The file claims EPSG:4326, but the numbers are EPSG:4546 metres: the catalog relabels.
    path = tmp_path / "wrong.gpkg"
    frame = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[Point(XY_4546[0])], crs="EPSG:4326")
    frame.to_file(path, engine="pyogrio")
    spec = spec_for(path, crs="EPSG:4546")
    assert layer_crs(spec) == CRS.from_epsg(4546)
    native = read_layer_native(spec)
    assert native.geometry.iloc[0].x == XY_4546[0][0]
    out = read_layer(spec)
    assert 109.0 < out.geometry.iloc[0].x < 112.0


def test_gcj02_geojson_converts_back_to_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "spxm_gcj02.geojson"
    rng = np.random.default_rng(7)
    lon = rng.uniform(109.9, 111.2, 20)
    lat = rng.uniform(28.9, 29.7, 20)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert np.max(np.abs(g_lon - lon)) > 1e-3  # the shift is real (hundreds of metres)
    frame = gpd.GeoDataFrame(
        {"BSM": [str(i) for i in range(20)]},
        geometry=gpd.points_from_xy(g_lon, g_lat),
        crs="OGC:CRS84",
    )
    frame.to_file(path, engine="pyogrio")
    spec = spec_for(path, crs="GCJ-02")
    assert is_gcj02(spec)
    assert layer_crs(spec) == CRS.from_epsg(4326)
    out = read_layer(spec)
    assert out.crs == CRS.from_epsg(4326)
    assert np.max(np.abs(out.geometry.x.to_numpy() - lon)) < 1e-6
    assert np.max(np.abs(out.geometry.y.to_numpy() - lat)) < 1e-6

    batches = list(iter_batches(spec, batch_size=7))
    joined = pd.concat(batches)
    assert np.max(np.abs(joined.geometry.x.to_numpy() - lon)) < 1e-6


def test_no_crs_anywhere_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"
    frame = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[Point(XY_4546[0])])
    with pytest.warns(UserWarning):
        frame.to_file(path, engine="pyogrio")
    spec = spec_for(path, id="nocrs_layer")
    with pytest.raises(SourceError, match=r"nocrs_layer.*nocrs\.shp.*no CRS"):
        read_layer(spec)
    with pytest.raises(SourceError, match="nocrs_layer"):
        layer_crs(spec)
    # Declaring it in the catalog fixes it.
    assert read_layer(spec_for(path, crs="EPSG:4546")).crs == CRS.from_epsg(4326)


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    spec = spec_for(tmp_path / "gone.gpkg", id="gone_layer")
    with pytest.raises(SourceError, match=r"gone_layer.*gone\.gpkg.*does not exist"):
        read_layer(spec)
    with pytest.raises(SourceError, match="gone_layer"):
        list(iter_batches(spec))


def test_unreadable_file_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not a geopackage")
    with pytest.raises(SourceError, match=r"test_layer.*cannot be read"):
        read_layer(spec_for(path))


def test_layers_of_multi_layer_file(tmp_path: Path) -> None:
    path = tmp_path / "ghcg.gpkg"
    frame = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[Point(110.5, 29.1)], crs="EPSG:4490")
    frame.to_file(path, layer="stbhhx", engine="pyogrio")
    frame.to_file(path, layer="ghfq", engine="pyogrio")
    with pytest.raises(SourceError, match=r"test_layer.*'nope'"):
        read_layer(spec_for(path, layer="nope"))
    with pytest.raises(SourceError, match=r"several layers.*stbhhx"):
        read_layer(spec_for(path))
    assert len(read_layer(spec_for(path, layer="ghfq"))) == 1


def test_iter_batches_yields_all_features(tmp_path: Path) -> None:
    path = tmp_path / "dltb.gpkg"
    n = 1003
    frame = gpd.GeoDataFrame(
        {"BSM": [f"{i:06d}" for i in range(n)], "MC": ["地块"] * n},
        geometry=gpd.points_from_xy(110.0 + np.arange(n) * 1e-4, np.full(n, 29.0)),
        crs="EPSG:4490",
    )
    frame.to_file(path, engine="pyogrio")
    spec = spec_for(path)
    batches = list(iter_batches(spec, batch_size=100))
    assert [len(b) for b in batches] == [100] * 10 + [3]
    assert all(b.crs == CRS.from_epsg(4326) for b in batches)
    joined = pd.concat(batches)
    assert joined["BSM"].tolist() == frame["BSM"].tolist()
    assert joined.index.tolist() == list(range(n))
    assert sum(len(b) for b in iter_batches(spec, batch_size=1003)) == n
    assert sum(len(b) for b in iter_batches(spec)) == n


def test_columns_and_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "cun.geojson"
    frame = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[Point(110.5, 29.1)], crs="OGC:CRS84")
    frame.to_file(path, engine="pyogrio")
    spec = spec_for(path, fields=("BSM", "MC", "MJ"))
    out = read_layer(spec, columns=["MC", "BSM"])
    assert list(out.columns) == ["BSM", "geometry"]
    assert missing_fields(spec, out) == ["MC", "MJ"]
