"""assemble(): several single-table GeoPackages copied into one, read back with GDAL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from publish.errors import BuildError
from publish.features.store import assemble, verify_gpkg
from publish.gpkg.schema import gpkg_has_rtree
from tests.features.helpers import CELL, LAT0, LON0, frame_lines, frame_points, squares, write_layer

PARCELS = [*range(1, 700), *range(720, 1201)]  # a gap: fids 700-719 were filtered out


def _sql(path: Path, query: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layers")
    write_layer(root / "ydyh.gpkg", [squares(PARCELS[:500]), squares(PARCELS[500:])])
    write_layer(root / "hl.gpkg", [frame_lines([1, 2, 3, 4])], "hl", ["HLMC"], "line")
    write_layer(root / "cun.gpkg", [frame_points([2, 3, 5])], "cun", ["CJMC", "LX"], "point")
    return {"ydyh": root / "ydyh.gpkg", "hl": root / "hl.gpkg", "cun": root / "cun.gpkg"}


@pytest.fixture(scope="module")
def assembled(sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("release") / "internal.gpkg"
    assemble(dest, [(name, path) for name, path in sources.items()])
    return dest


def test_every_layer_with_its_rows_and_fids(assembled: Path, sources: dict[str, Path]) -> None:
    assert sorted(p.name for p in assembled.parent.iterdir()) == ["internal.gpkg"]
    layers = dict(pyogrio.list_layers(assembled).tolist())
    assert layers == {"ydyh": "MultiPolygon", "hl": "MultiLineString", "cun": "MultiPoint"}
    for name, source in sources.items():
        original = pyogrio.read_dataframe(source, fid_as_index=True)
        copied = pyogrio.read_dataframe(assembled, layer=name, fid_as_index=True)
        assert list(copied.index) == list(original.index)
        assert copied.drop(columns="geometry").equals(original.drop(columns="geometry"))
        assert shapely.equals(copied.geometry.array, original.geometry.array).all()
        info = pyogrio.read_info(assembled, layer=name)
        assert info["crs"] == "EPSG:4326" and info["features"] == len(original)
    assert copied.loc[2, "CJMC"] == "村2"


def test_metadata_rows_are_copied(assembled: Path) -> None:
    contents = _sql(assembled, "SELECT table_name, data_type, srs_id FROM gpkg_contents")
    assert sorted(contents) == [
        ("cun", "features", 4326),
        ("hl", "features", 4326),
        ("ydyh", "features", 4326),
    ]
    geometry = dict(
        _sql(assembled, "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns")
    )
    assert geometry == {"ydyh": "MULTIPOLYGON", "hl": "MULTILINESTRING", "cun": "MULTIPOINT"}
    rtrees = _sql(
        assembled,
        "SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'",
    )
    assert sorted(rtrees) == [("cun",), ("hl",), ("ydyh",)]
    counts = dict(_sql(assembled, "SELECT table_name, feature_count FROM gpkg_ogr_contents"))
    assert counts == {"ydyh": len(PARCELS), "hl": 4, "cun": 3}
    assert {4326, 0, -1} <= {
        r[0] for r in _sql(assembled, "SELECT srs_id FROM gpkg_spatial_ref_sys")
    }
    assert _sql(assembled, "PRAGMA application_id")[0][0] == 0x47504B47
    assert _sql(assembled, "PRAGMA integrity_check") == [("ok",)]


def test_rtrees_are_complete(assembled: Path) -> None:
    for name in ("ydyh", "hl", "cun"):
        assert gpkg_has_rtree(assembled, name)
        rows = _sql(assembled, f"SELECT count(*) FROM {name}")[0][0]
        assert _sql(assembled, f"SELECT count(*) FROM rtree_{name}_geom")[0][0] == rows
        assert _sql(assembled, f"SELECT rtreecheck('rtree_{name}_geom')") == [("ok",)]


def test_bbox_queries_use_the_rtree(assembled: Path, tmp_path: Path) -> None:
    # columns 17-21 of rows 15-18: 20 squares, less fids 700-702 (row 17, columns 19-21)
    bbox = (LON0 + 17.5 * CELL, LAT0 + 15.5 * CELL, LON0 + 21.2 * CELL, LAT0 + 18.9 * CELL)
    expected = squares(PARCELS)
    want = sorted(expected.loc[expected.intersects(shapely.box(*bbox)), "fid"])
    assert len(want) == 17
    hits = pyogrio.read_dataframe(assembled, layer="ydyh", bbox=bbox, fid_as_index=True)
    assert sorted(hits.index) == want
    # GDAL answers from the R-tree: take one entry out and that feature is no longer found
    broken = tmp_path / "broken.gpkg"
    shutil.copy(assembled, broken)
    conn = sqlite3.connect(broken)
    conn.execute("DELETE FROM rtree_ydyh_geom WHERE id = ?", (want[0],))
    conn.commit()
    conn.close()
    hits = pyogrio.read_dataframe(broken, layer="ydyh", bbox=bbox, fid_as_index=True)
    assert sorted(hits.index) == want[1:]
    assert not gpkg_has_rtree(broken, "ydyh")


def test_gdal_can_keep_editing_the_result(assembled: Path, tmp_path: Path) -> None:
    """The triggers were restored: rows GDAL adds later go into the R-tree and the count."""
    copy = tmp_path / "copy.gpkg"
    shutil.copy(assembled, copy)
    extra = squares([5000]).drop(columns=["fid", "EXTRA"])
    pyogrio.write_dataframe(extra, copy, layer="ydyh", append=True, promote_to_multi=True)
    assert gpkg_has_rtree(copy, "ydyh")
    assert pyogrio.read_info(copy, layer="ydyh")["features"] == len(PARCELS) + 1
    new_fid = _sql(copy, "SELECT max(fid) FROM ydyh")[0][0]
    assert new_fid > max(PARCELS)  # the AUTOINCREMENT sequence came along
    assert _sql(copy, "SELECT count(*) FROM rtree_ydyh_geom WHERE id = ?", (new_fid,)) == [(1,)]


def test_a_subset_for_the_public(sources: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "public.gpkg"
    assemble(dest, [("hl", sources["hl"])])
    assert pyogrio.list_layers(dest).tolist() == [["hl", "MultiLineString"]]
    assert gpkg_has_rtree(dest, "hl")


def test_an_attributes_table_is_copied(sources: dict[str, Path], tmp_path: Path) -> None:
    table = tmp_path / "notes.gpkg"
    pyogrio.write_dataframe(
        gpd.pd.DataFrame({"k": ["红线", "农田"], "v": [1.5, np.nan]}), table, layer="notes"
    )
    for order in (
        [("cun", sources["cun"]), ("notes", table)],
        [("notes", table), ("cun", sources["cun"])],
    ):
        dest = tmp_path / "with_notes.gpkg"
        assemble(dest, order)
        back = pyogrio.read_dataframe(dest, layer="notes")
        assert back["k"].tolist() == ["红线", "农田"]
        kinds = dict(_sql(dest, "SELECT table_name, data_type FROM gpkg_contents"))
        assert kinds == {"cun": "features", "notes": "attributes"}
        assert gpkg_has_rtree(dest, "cun")
        assert len(pyogrio.read_dataframe(dest, layer="cun", bbox=(110, 29, 111, 30))) == 3


def test_replaces_an_existing_file(sources: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "public.gpkg"
    assemble(dest, [("hl", sources["hl"])])
    assemble(dest, [("cun", sources["cun"]), ("hl", sources["hl"])])
    assert sorted(r[0] for r in pyogrio.list_layers(dest)) == ["cun", "hl"]


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ([], "no tables"),
        ([("hl", "hl"), ("HL", "hl")], "given twice"),
        ([("hl", "missing")], "does not exist"),
        ([("ydyh", "hl")], "no such table"),
    ],
)
def test_failures_leave_the_previous_file(
    sources: dict[str, Path], tmp_path: Path, tables: list[tuple[str, str]], message: str
) -> None:
    dest = tmp_path / "public.gpkg"
    dest.write_bytes(b"previous release")
    resolved = [(name, sources.get(src, tmp_path / src)) for name, src in tables]
    with pytest.raises(BuildError, match=message):
        assemble(dest, resolved)
    assert dest.read_bytes() == b"previous release"
    assert [p.name for p in tmp_path.iterdir()] == ["public.gpkg"]


def test_verify_reports_a_wrong_count(assembled: Path) -> None:
    verify_gpkg(assembled, {"hl": 4, "cun": 3})
    with pytest.raises(BuildError, match="'hl' has 4 rows, expected 5"):
        verify_gpkg(assembled, {"hl": 5})
