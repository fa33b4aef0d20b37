"""A GeoPackage opened for serving: table layouts, read-only connections, sharing by path, and
the one R-tree query with everything its readers ask of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio
import pytest

from publish.gpkg.errors import GeoPackageError
from publish.gpkg.reader import GeoPackage, open_geopackage
from tests.gpkg.helpers import BOX, write_six


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
    assert gpkg.feature_tables() == {"t"}


def test_rows_in_box_follow_the_envelopes_in_id_order(gpkg: GeoPackage) -> None:
    rows = gpkg.rows_in_box("t", ["MC", None], BOX)
    # the L (2) is a candidate: its envelope meets the box; NULL geometry (6) is in no R-tree
    assert [row[:3] for row in rows] == [
        (1, "甲", None),
        (2, "乙", None),
        (3, "丙", None),
        (5, "甲", None),
    ]
    assert all(isinstance(row[3], bytes) for row in rows)
    everything = gpkg.rows_in_box("t", [], None)
    assert [row[0] for row in everything] == [1, 2, 3, 4, 5, 6] and everything[5][1] is None


def test_rows_in_box_select_order_and_page(gpkg: GeoPackage) -> None:
    def ids(box: tuple[float, float, float, float] | None, **how: Any) -> list[int]:
        return [row[0] for row in gpkg.rows_in_box("t", ["MJ"], box, **how)]

    assert ids(BOX, crossing=True) == [2, 3, 5]  # envelopes across the box's edge
    assert ids(BOX, equals=[("MC", "甲")]) == [1, 5]
    assert ids(BOX, exclude=[2, 5]) == [1, 3]
    assert ids(None, order=[("MJ", True)]) == [3, 5, 1, 2, 6, 4]
    assert ids(None, order=[("MJ", False)], limit=2, offset=1) == [6, 2]
    assert sorted(ids(BOX, crossing=True, order=None)) == [2, 3, 5]
    (row,) = gpkg.rows_in_box("t", ["MC"], None, equals=[("BSM", 4)], geometry=False)
    assert row == (4, "丁")
    assert gpkg.count_in_box("t", BOX) == 4
    assert gpkg.count_in_box("t", BOX, equals=[("MC", "甲")], exclude=[5]) == 1
    assert gpkg.count_in_box("t", None) == 6


def test_row_by_id(gpkg: GeoPackage) -> None:
    row = gpkg.row_by_id("t", 2, ["MC", "MJ"])
    assert row is not None and row[:3] == (2, "乙", 3.0) and isinstance(row[3], bytes)
    assert gpkg.row_by_id("t", 99, ["MC"]) is None


def test_a_box_needs_the_spatial_index(tmp_path: Path) -> None:
    path = tmp_path / "plain.gpkg"
    write_six(tmp_path / "six.gpkg")
    frame = pyogrio.read_dataframe(tmp_path / "six.gpkg", layer="t")
    pyogrio.write_dataframe(frame, path, layer="t", SPATIAL_INDEX="NO")
    plain = GeoPackage(path)
    assert plain.table("t").rtree is None
    with pytest.raises(GeoPackageError, match="no spatial index"):
        plain.rows_in_box("t", [], BOX)
    assert len(plain.rows_in_box("t", [], None)) == 6
    with pytest.raises(GeoPackageError, match="needs a box"):
        plain.rows_in_box("t", [], None, crossing=True)


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


def test_derived_values_are_kept_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from publish.gpkg import reader

    gpkg = GeoPackage(write_six(tmp_path / "t.gpkg"))
    made: list[int] = []

    def make(value: int) -> Any:
        return lambda: made.append(value) or value

    assert gpkg.derived("a", make(1)) == 1
    assert gpkg.derived("a", make(2)) == 1  # kept
    assert gpkg.derived("b", make(3), keep=lambda _value: False) == 3
    assert gpkg.derived("b", make(4)) == 4  # the one not kept was made again
    monkeypatch.setattr(reader, "_DERIVED_KEPT", 2)
    assert gpkg.derived("c", make(5)) == 5  # "a", the oldest, goes
    assert gpkg.derived("a", make(6)) == 6
    assert gpkg.derived("c", make(7)) == 5
    assert made == [1, 3, 4, 5, 6]
    assert GeoPackage(gpkg.path).derived("c", make(8)) == 8  # another object, its own values
