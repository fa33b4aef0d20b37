"""LayerTableWriter: one layer streamed into a single-table GeoPackage, read back with GDAL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from publish.errors import BuildError
from publish.features.store import LayerTableInfo, LayerTableWriter
from publish.gpkg.schema import gpkg_has_rtree
from tests.features.helpers import (
    CELL,
    FIELDS,
    LAT0,
    LON0,
    frame_lines,
    frame_points,
    squares,
    write_layer,
)

# Three batches of different sizes; fids 101 and 250-259 are missing (filtered rows).
BATCHES = (range(1, 101), [*range(102, 250), *range(260, 300)], range(300, 421))


def _fids() -> np.ndarray:
    return np.concatenate([np.asarray(list(b)) for b in BATCHES])


def _sql(path: Path, query: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LayerTableInfo]:
    path = tmp_path_factory.mktemp("store") / "ydyh.gpkg"
    info = write_layer(path, [squares(list(b)) for b in BATCHES])
    return path, info


def test_rows_fids_and_columns_survive(written: tuple[Path, LayerTableInfo]) -> None:
    path, _ = written
    expected = squares(_fids()).set_index("fid")
    back = pyogrio.read_dataframe(path, layer="ydyh", fid_as_index=True)
    assert list(back.index) == list(expected.index)  # the fids are the GeoPackage FIDs
    assert list(back.columns) == [*FIELDS, "area_m2", "geometry"]  # EXTRA is not stored
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")),
        pd.DataFrame(expected[[*FIELDS, "area_m2"]]),
        check_dtype=False,
        check_index_type=False,
        check_names=False,
    )
    assert back["YDYHFLMC"].iloc[2] == "张家界·天门山（北）"
    assert back["NUM"].dtype == np.int64 and back["MJ"].dtype == np.float64
    assert set(back.geometry.geom_type) == {"MultiPolygon"}
    assert shapely.equals(back.geometry.array, expected.geometry.array).all()


def test_table_layout(written: tuple[Path, LayerTableInfo]) -> None:
    path, _ = written
    info = pyogrio.read_info(path)
    assert pyogrio.list_layers(path).tolist() == [["ydyh", "MultiPolygon"]]
    assert info["crs"] == "EPSG:4326" and info["fid_column"] == "fid"
    assert info["geometry_name"] == "geom"
    assert list(info["fields"]) == [*FIELDS, "area_m2"]
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["BSM"] == "OFTString" and types["NUM"] == "OFTInteger64"
    assert types["MJ"] == "OFTReal" and types["area_m2"] == "OFTReal"
    sql = _sql(path, "SELECT sql FROM sqlite_master WHERE name = 'ydyh'")[0][0]
    assert '"fid" INTEGER PRIMARY KEY' in sql
    # x = longitude, y = latitude as stored
    minx, miny, maxx, maxy = _sql(
        path, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'ydyh'"
    )[0]
    assert LON0 - 1e-9 <= minx < maxx < 111 and LAT0 - 1e-9 <= miny < maxy < 30


def test_rtree_is_populated_after_several_appends(written: tuple[Path, LayerTableInfo]) -> None:
    path, _ = written
    assert gpkg_has_rtree(path, "ydyh")
    assert _sql(path, "SELECT count(*) FROM rtree_ydyh_geom")[0][0] == len(_fids())
    assert sorted(r[0] for r in _sql(path, "SELECT id FROM rtree_ydyh_geom")) == list(_fids())
    names = {r[0] for r in _sql(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "rtree_ydyh_geom_insert" in names
    extension = _sql(path, "SELECT extension_name FROM gpkg_extensions WHERE table_name = 'ydyh'")
    assert ("gpkg_rtree_index",) in extension


def test_bbox_query_returns_the_intersecting_rows(written: tuple[Path, LayerTableInfo]) -> None:
    path, _ = written
    bbox = (LON0 + 3.5 * CELL, LAT0 + 2.5 * CELL, LON0 + 7.2 * CELL, LAT0 + 9.1 * CELL)
    hits = pyogrio.read_dataframe(path, bbox=bbox, fid_as_index=True)
    expected = squares(_fids())
    want = expected.loc[expected.intersects(shapely.box(*bbox)), "fid"]
    assert len(want) > 10
    assert sorted(hits.index) == sorted(want)


def test_info_and_no_scratch_left(written: tuple[Path, LayerTableInfo]) -> None:
    path, info = written
    expected = squares(_fids())
    assert info.path == path and info.table == "ydyh"
    assert info.count == len(expected)
    assert info.area_m2 == pytest.approx(expected["area_m2"].sum())
    assert info.bounds == pytest.approx(tuple(expected.total_bounds))
    assert sorted(p.name for p in path.parent.iterdir()) == ["ydyh.gpkg"]


def test_lines_and_points_promoted_to_multi(tmp_path: Path) -> None:
    lines = write_layer(
        tmp_path / "hl.gpkg", [frame_lines([1, 2, 3]), frame_lines([7, 8])], "hl", ["HLMC"], "line"
    )
    points = write_layer(
        tmp_path / "cun.gpkg",
        [frame_points([1, 2]), frame_points([5, 6, 9])],
        "cun",
        ["CJMC", "LX"],
        "point",
    )
    back = pyogrio.read_dataframe(tmp_path / "hl.gpkg", fid_as_index=True)
    assert list(back.index) == [1, 2, 3, 7, 8]
    assert set(back.geometry.geom_type) == {"MultiLineString"}
    assert back["area_m2"].isna().all() and back["HLMC"].iloc[0] == "澧水支流1"
    assert lines.count == 5 and lines.area_m2 == 0.0  # NaN areas are left out of the sum
    cun = pyogrio.read_dataframe(tmp_path / "cun.gpkg", fid_as_index=True)
    assert set(cun.geometry.geom_type) == {"MultiPoint"}
    assert cun["LX"].iloc[0] == 1 and pd.isna(cun["LX"].iloc[1])
    assert pyogrio.read_info(tmp_path / "cun.gpkg")["ogr_types"][1] == "OFTInteger64"
    assert points.count == 5
    assert gpkg_has_rtree(tmp_path / "hl.gpkg", "hl") and gpkg_has_rtree(
        tmp_path / "cun.gpkg", "cun"
    )


def test_later_batches_cast_to_the_first_batch_types(tmp_path: Path) -> None:
    first = squares([1, 2, 3])
    second = squares([4, 5, 6])
    second["NUM"] = [28.0, np.nan, 42.0]  # an integer column read with a null arrives as floats
    second["BSM"] = [430802, 430803, None]  # numbers in a text column stay text
    path = tmp_path / "t.gpkg"
    write_layer(path, [first, second], "t")
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["NUM"] == "OFTInteger64" and types["BSM"] == "OFTString"
    rows = _sql(path, "SELECT fid, NUM, typeof(NUM), BSM, typeof(BSM) FROM t ORDER BY fid")
    assert rows[3] == (4, 28, "integer", "430802", "text")
    assert rows[4][1] is None and rows[5][1:3] == (42, "integer")


def test_fractional_values_in_an_integer_column_are_refused(tmp_path: Path) -> None:
    second = squares([4])
    second["NUM"] = [2.5]
    writer = LayerTableWriter(tmp_path / "t.gpkg", "t", FIELDS, "polygon")
    writer.append(squares([1, 2]))
    with pytest.raises(BuildError, match="'NUM'"):
        writer.append(second)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_null_and_empty_geometries_are_kept_out_of_the_rtree(tmp_path: Path) -> None:
    frame = squares([1, 2, 3, 4])
    frame.loc[1, "geometry"] = None
    frame.loc[2, "geometry"] = shapely.Polygon()
    frame.loc[3, "geometry"] = shapely.GeometryCollection()  # an empty of another type
    path = tmp_path / "t.gpkg"
    info = write_layer(path, [frame, squares([5])], "t")
    assert info.count == 5
    assert _sql(path, "SELECT count(*) FROM rtree_t_geom")[0][0] == 2
    assert gpkg_has_rtree(path, "t")
    back = pyogrio.read_dataframe(path, fid_as_index=True)
    assert back.geometry.isna().tolist() == [False, True, False, True, False]
    assert bool(back.geometry.iloc[2].is_empty)


def test_nothing_appended_gives_an_empty_table(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    writer = LayerTableWriter(path, "empty", FIELDS, "polygon")
    writer.append(squares([]))
    info = writer.close()
    assert info.count == 0 and info.bounds is None and info.area_m2 == 0.0
    meta = pyogrio.read_info(path)
    assert meta["features"] == 0 and list(meta["fields"]) == [*FIELDS, "area_m2"]
    assert meta["geometry_type"] == "MultiPolygon"
    assert gpkg_has_rtree(path, "empty")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.to_crs("EPSG:4546"), "EPSG:4326"),
        (lambda f: f.drop(columns="MJ"), "lacks column"),
        (lambda f: f.drop(columns="area_m2"), "area_m2"),
        (lambda f: f.assign(fid=f["fid"].astype("float64")), "'fid'"),
        (lambda f: f.assign(fid=1), "unique"),
        (lambda f: f.assign(fid=f["fid"] - 1), "from 1"),
        (lambda f: f.set_geometry(f.geometry.representative_point()), "not polygons"),
    ],
)
def test_bad_batches_are_refused(
    tmp_path: Path, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], message: str
) -> None:
    with (
        pytest.raises(BuildError, match=message),
        LayerTableWriter(tmp_path / "t.gpkg", "t", FIELDS, "polygon") as writer,
    ):
        writer.append(change(squares([1, 2, 3])))
    assert list(tmp_path.iterdir()) == []


def test_a_fid_repeated_across_batches_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.gpkg"
    path.write_bytes(b"previous release")
    with (
        pytest.raises(BuildError, match="fid repeats"),
        LayerTableWriter(path, "t", FIELDS, "polygon") as writer,
    ):
        writer.append(squares([1, 2, 3]))
        writer.append(squares([3, 4]))
    assert [p.name for p in tmp_path.iterdir()] == ["t.gpkg"]
    assert path.read_bytes() == b"previous release"  # replaced only by a finished file


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="geometry"):
        LayerTableWriter(tmp_path / "t.gpkg", "t", FIELDS, "raster")
    with pytest.raises(BuildError, match="clashes"):
        LayerTableWriter(tmp_path / "t.gpkg", "t", ["BSM", "FID"], "polygon")
    writer = LayerTableWriter(tmp_path / "t.gpkg", "t", FIELDS, "polygon")
    writer.append(squares([1]))
    writer.close()
    with pytest.raises(BuildError, match="after close"):
        writer.append(squares([2]))


def test_geometries_keep_lonlat_order(tmp_path: Path) -> None:
    path = tmp_path / "t.gpkg"
    write_layer(path, [squares([1])], "t")
    back = gpd.read_file(path, engine="pyogrio")
    minx, miny, _, _ = back.total_bounds
    assert minx == pytest.approx(LON0) and miny == pytest.approx(LAT0)
