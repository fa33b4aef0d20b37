"""Tests for publish.tiles.stack: one layer's archives at disjoint zooms made one archive, the
overview's coarser extent kept below and the detail's full extent above."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.errors import BuildError
from publish.tiles.archive import Archive, verify
from publish.tiles.inputs import write_layer
from publish.tiles.job import run_tippecanoe
from publish.tiles.mvt import decode_tile
from publish.tiles.stack import stack_archives
from tests.tiles.frames import parcels


def _tile(
    path: Path, layer: str, fields: list[str], zooms: tuple[int, int], detail: int | None = None
) -> Path:
    src = write_layer([parcels()], path.with_suffix(".geojsonseq"), layer, fields,
                      minzoom=zooms[0], maxzoom=zooms[1], geometry="polygon")  # fmt: skip
    run_tippecanoe([src], path, layer, require_complete=detail is None, low_zoom_detail=detail)
    return path


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stack")
    return {
        "overview": _tile(root / "o.pmtiles", "parcels", ["DLBM"], (8, 11), detail=10),
        "detail": _tile(root / "d.pmtiles", "parcels", ["DLBM", "DLMC"], (12, 14)),
        "other": _tile(root / "x.pmtiles", "roads", ["DLBM"], (12, 14)),
    }


def _tiles(path: Path) -> dict[tuple[int, int, int], bytes]:
    with Archive(path) as archive:
        return {(z, x, y): data for z, x, y, data in archive.iter_tiles()}


def _extents(path: Path, layer: str) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    with Archive(path) as archive:
        for z, _x, _y, data in archive.iter_tiles():
            out.setdefault(z, set()).add(decode_tile(data, "gzip")[layer]["extent"])
    return out


def test_stack_holds_every_tile_of_both_parts_as_stored(
    parts: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "layer.pmtiles"
    stack_archives([parts["detail"], parts["overview"]], out)  # any order
    assert verify(out) == []
    tiles = _tiles(out)
    assert tiles == {**_tiles(parts["overview"]), **_tiles(parts["detail"])}
    with Archive(out) as archive:
        assert (archive.minzoom, archive.maxzoom) == (8, 14)
        (layer,) = archive.metadata()["vector_layers"]
        assert layer["id"] == "parcels" and layer["minzoom"] == 8
        assert set(layer["fields"]) == {"DLBM", "DLMC"}  # the detail's metadata
    # the overview's zooms at extent 1024, the detail's at tippecanoe's full 4096
    assert _extents(out, "parcels") == {
        **{z: {1024} for z in range(8, 12)},
        **{z: {4096} for z in range(12, 15)},
    }


def test_stack_refuses_overlapping_zooms_and_other_layers(
    parts: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bad.pmtiles"
    with pytest.raises(BuildError, match="overlap"):
        stack_archives([parts["detail"], parts["detail"]], out)
    with pytest.raises(BuildError, match="different layers"):
        stack_archives([parts["overview"], parts["other"]], out)
    with pytest.raises(BuildError, match="no archives"):
        stack_archives([], out)
    assert not out.exists() and not list(tmp_path.glob(".bad*"))
