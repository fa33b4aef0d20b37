"""A GeoPackage opened for serving: table layouts, read-only connections, sharing by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.gpkg.errors import GeoPackageError
from publish.gpkg.reader import GeoPackage, open_geopackage
from tests.gpkg.helpers import write_six


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory: pytest.TempPathFactory) -> GeoPackage:
    return GeoPackage(write_six(tmp_path_factory.mktemp("gpkg") / "t.gpkg"))


def test_layout(gpkg: GeoPackage) -> None:
    table = gpkg.table("t")
    assert table.id_column == "fid"
    assert table.rtree == "rtree_t_geom"
    assert dict(table.columns) == {
        "BSM": {"type": "integer"},
        "MC": {"type": "string"},
        "MJ": {"type": "number"},
    }
    with pytest.raises(GeoPackageError):
        gpkg.table("gpkg_contents")
    with pytest.raises(GeoPackageError):
        gpkg.table("nothing")


def test_one_object_per_file(tmp_path: Path) -> None:
    path = write_six(tmp_path / "t.gpkg")
    assert open_geopackage(path) is open_geopackage(str(path))
    with pytest.raises(GeoPackageError):
        open_geopackage(tmp_path / "missing.gpkg")


def test_connections_are_read_only(gpkg: GeoPackage, tmp_path: Path) -> None:
    with pytest.raises(GeoPackageError):
        gpkg.execute("DELETE FROM t")
    with pytest.raises(GeoPackageError):
        GeoPackage(tmp_path / "missing.gpkg")
