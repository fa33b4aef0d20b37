"""Row hashes (publish.features.rowhashes): one hash per row, equal for equal rows only, and
none for a table whose ids are not all integers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from publish.features.rowhashes import read_row_hashes, row_hashes_path, write_row_hashes


def _write(path: Path, bsm: list[object], codes: list[str], shift: float = 0.0) -> None:
    frame = gpd.GeoDataFrame(
        {"BSM": bsm, "DLBM": codes},
        geometry=[shapely.box(i, 0, i + 1 + shift * (i == 2), 1) for i in range(len(bsm))],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, path, layer="dltb", driver="GPKG")


def test_equal_rows_hash_equal_and_a_changed_row_differs(tmp_path: Path) -> None:
    codes = ["0101", "0301", "0702", "1001"]
    _write(tmp_path / "a.gpkg", [11, 12, 13, 14], codes)
    _write(tmp_path / "b.gpkg", [11, 12, 13, 14], [*codes[:3], "0301"], shift=0.5)
    out = {}
    for name in ("a", "b"):
        gpkg = tmp_path / f"{name}.gpkg"
        target = row_hashes_path(gpkg, "dltb")
        assert target == tmp_path / "rows" / "dltb.npz"
        assert write_row_hashes(gpkg, "dltb", "BSM", target)
        out[name] = read_row_hashes(target)
        target.rename(tmp_path / f"{name}.npz")
    a, b = out["a"], out["b"]
    assert a is not None and b is not None
    assert a.fid.tolist() == [1, 2, 3, 4] and a.id.tolist() == [11, 12, 13, 14]
    assert a.columns == b.columns and a.columns[0] == "geom" and "DLBM" in a.columns
    assert a.id_column == "BSM"
    # row 3's geometry and row 4's code changed; rows 1 and 2 did not
    assert (a.hash == b.hash).tolist() == [True, True, False, False]
    assert len(set(a.hash.tolist())) == 4


def test_text_or_missing_ids_get_no_hashes(tmp_path: Path) -> None:
    gpkg = tmp_path / "t.gpkg"
    _write(gpkg, ["a1", "a2", "a3"], ["0101", "0101", "0101"])
    target = row_hashes_path(gpkg, "dltb")
    target.parent.mkdir()
    target.write_bytes(b"stale")
    assert not write_row_hashes(gpkg, "dltb", "BSM", target)
    assert not target.exists()  # never another table's hashes
    assert read_row_hashes(target) is None
    gpkg2 = tmp_path / "m.gpkg"
    _write(gpkg2, [1, None, 3], ["0101", "0101", "0101"])
    assert not write_row_hashes(gpkg2, "dltb", "BSM", row_hashes_path(gpkg2, "dltb"))
