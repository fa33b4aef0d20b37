"""publish.gpkg.schema: reading a GeoPackage table's parts, and gpkg_has_rtree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyogrio
import pytest

from publish.gpkg.errors import GeoPackageError
from publish.gpkg.schema import gpkg_has_rtree, indexed_geometry_count, table_schema
from tests.features.helpers import squares, write_layer


@pytest.fixture()
def layer(tmp_path: Path) -> Path:
    path = tmp_path / "t.gpkg"
    write_layer(path, [squares([1, 2, 3, 4, 5])], "t")
    return path


def test_table_schema_lists_the_parts(layer: Path) -> None:
    conn = sqlite3.connect(layer)
    try:
        schema = table_schema(conn, "T")  # SQLite names ignore case
        assert schema.name == "t" and schema.data_type == "features" and schema.srs_id == 4326
        assert schema.columns[:2] == ("fid", "geom") and schema.columns[-1] == "area_m2"
        assert schema.geometry_column == "geom" and schema.rtree == "rtree_t_geom"
        assert schema.rtree_sql is not None and "USING rtree" in schema.rtree_sql
        names = {name for name, _ in schema.triggers}
        assert {"rtree_t_geom_insert", "rtree_t_geom_delete"} <= names
        assert indexed_geometry_count(conn, "t", "geom") == 5
        with pytest.raises(GeoPackageError, match="no such table"):
            table_schema(conn, "missing")
    finally:
        conn.close()


def test_has_rtree_only_when_complete(layer: Path, tmp_path: Path) -> None:
    assert gpkg_has_rtree(layer, "t")
    assert not gpkg_has_rtree(layer, "missing")
    conn = sqlite3.connect(layer)
    conn.execute("DELETE FROM rtree_t_geom WHERE id = 3")
    conn.commit()
    conn.close()
    assert not gpkg_has_rtree(layer, "t")  # an index missing an entry is no index


def test_has_rtree_false_without_a_spatial_index(tmp_path: Path) -> None:
    path = tmp_path / "plain.gpkg"
    pyogrio.write_dataframe(squares([1, 2]), path, layer="plain", SPATIAL_INDEX="NO")
    assert not gpkg_has_rtree(path, "plain")
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a database at all" * 100)
    assert not gpkg_has_rtree(junk, "plain")
    with pytest.raises(GeoPackageError, match="no such GeoPackage"):
        gpkg_has_rtree(tmp_path / "absent.gpkg", "plain")
