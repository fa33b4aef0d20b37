"""A GBK Shapefile in EPSG:4546 without .cpg and a GeoPackage in EPSG:4490 build into tiles whose
Chinese attributes and positions are right."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import yaml

from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from tests.mvt import decoded_tiles, metres, tile_to_lonlat

NAMES = ["天门山", "大庸古城", "澧水·南岸", "武陵源（核心区）", "溪布街"]
LONLAT = [(110.4801, 29.1291), (110.4923, 29.1322), (110.5107, 29.1158), (110.5431, 29.3512),
          (110.4788, 29.1377)]  # fmt: skip


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    pts = gpd.GeoSeries([shapely.Point(p) for p in LONLAT], crs=4490)
    frame = gpd.GeoDataFrame({"BSM": np.arange(1, 6), "MC": NAMES}, geometry=pts)
    frame.to_crs(4546).to_file(root / "pts.shp", encoding="GBK")
    (root / "pts.cpg").unlink(missing_ok=True)
    assert not (root / "pts.cpg").exists()
    pyogrio.write_dataframe(frame, root / "pts.gpkg", layer="pts")
    pyogrio.write_dataframe(frame, root / "pts.fgb", driver="FlatGeobuf")
    catalog = {
        "layers": [
            {"id": "pts_shp", "title": {"zh": "点（SHP）", "en": "points shp"}, "source": "pts.shp",
             "encoding": "GBK", "crs": "EPSG:4546", "geometry": "point", "access": "public",
             "role": "other", "fields": ["BSM", "MC"], "minzoom": 10, "maxzoom": 16},
            {"id": "pts_gpkg", "title": {"zh": "点（GPKG）", "en": "points gpkg"},
             "source": "pts.gpkg", "layer": "pts", "geometry": "point", "access": "internal",
             "role": "other", "fields": ["BSM", "MC"], "minzoom": 10, "maxzoom": 16},
            {"id": "pts_fgb", "title": {"zh": "点（FGB）", "en": "points fgb"},
             "source": "pts.fgb", "geometry": "point", "access": "public",
             "role": "other", "fields": ["BSM", "MC"], "minzoom": 10, "maxzoom": 16},
        ]
    }  # fmt: skip
    (root / "layers.yml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    result = build(
        BuildOptions(catalog=root / "layers.yml", out=root / "tiles"),
        Reporter(io.StringIO(), rich=False),
    )
    return result.path


@pytest.mark.parametrize("layer", ["pts_shp", "pts_gpkg", "pts_fgb"])
def test_positions_and_chinese_text(release: Path, layer: str) -> None:
    found = {}
    for x, y, tile in decoded_tiles(release / "tiles" / "internal.pmtiles", 16):
        data = tile.get(layer)
        if not data:
            continue
        for f in data["features"]:
            px, py = f["geometry"]["coordinates"]
            if 0 <= px < data["extent"] and 0 <= py < data["extent"]:
                found[f["properties"]["MC"]] = tile_to_lonlat(16, x, y, px, py, data["extent"])
    assert set(found) == set(NAMES)
    for name, lonlat in zip(NAMES, LONLAT, strict=True):
        assert metres(found[name], lonlat) < 1.0, (name, found[name], lonlat)


def test_feature_store_positions(release: Path) -> None:
    frame = pyogrio.read_dataframe(release / "features" / "internal.gpkg", layer="pts_shp")
    assert list(frame["MC"]) == NAMES
    for geom, lonlat in zip(frame.geometry, LONLAT, strict=True):
        point = geom.geoms[0] if geom.geom_type == "MultiPoint" else geom
        assert metres((point.x, point.y), lonlat) < 0.01


def test_source_without_crs_is_refused(tmp_path: Path) -> None:
    from publish.errors import ReviewFailedError

    frame = gpd.GeoDataFrame(
        {"BSM": [1], "MC": ["无坐标系"]}, geometry=[shapely.Point(500000, 3200000)]
    )
    frame.to_file(tmp_path / "nocrs.shp", encoding="UTF-8")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    catalog = {"layers": [
        {"id": "nocrs", "title": {"zh": "无坐标系", "en": "no crs"}, "source": "nocrs.shp",
         "geometry": "point", "access": "public", "role": "other", "fields": ["BSM", "MC"]},
    ]}  # fmt: skip
    (tmp_path / "layers.yml").write_text(yaml.safe_dump(catalog, allow_unicode=True), "utf-8")
    with pytest.raises(ReviewFailedError):
        build(
            BuildOptions(catalog=tmp_path / "layers.yml", out=tmp_path / "tiles"),
            Reporter(io.StringIO(), rich=False),
        )
    (report,) = (tmp_path / "tiles" / "reports").glob("*/review.json")
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert [(f["kind"], f["layer"]) for f in findings] == [("no_crs", "nocrs")]
    assert "nocrs" in findings[0]["message"] and "crs" in findings[0]["message"]
    assert not (tmp_path / "tiles" / "current").exists()
