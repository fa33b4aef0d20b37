"""The evaluator on tiny made-up layers: overlaps inside a layer count once (by union, or as a
coverage when the layer is one), pieces crossing unit edges are clipped, counts go by a point
on each feature, and quotients or figures that cannot be computed are None."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

from publish.catalog import Catalog, parse_catalog
from publish.indicators.compute import Evaluator, evaluate
from publish.indicators.model import Model, parse_model
from publish.indicators.rules import Target
from publish.indicators.scopes import scope_units

CRS = "EPSG:4546"
X0, Y0 = 400_000.0, 3_200_000.0  # inside the zone


def _layer(layer_id: str, role: str, fields: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": layer_id, "title": layer_id, "source": f"{layer_id}.gpkg", "access": "public",
            "role": role, "fields": fields, **extra}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    doc = {
        "city": {"code": "430800", "name": "市", "crs": CRS},
        "layers": [
            _layer("xian", "admin", ["XZQDM", "XZQMC"]),
            _layer("lines", "red_line", ["BSM"]),
            _layer("grid", "current_use", ["BSM", "DLBM"], code_field="DLBM"),
            _layer("pts", "other", ["BSM"], geometry="point"),
        ],
    }
    return parse_catalog(doc, Path("/nowhere/layers.yml"))


def _frame(geoms: list[Any] | np.ndarray, **columns: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


def _box(x: float, y: float, w: float, h: float) -> shapely.Geometry:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _frames(overlap_in_grid: bool) -> dict[str, gpd.GeoDataFrame]:
    # two counties side by side, 10 km × 10 km each
    xian = _frame([_box(0, 0, 10_000, 10_000), _box(10_000, 0, 10_000, 10_000)],
                  XZQDM=["430801", "430802"], XZQMC=["西县", "东县"])  # fmt: skip
    # a red line of two overlapping 2 km squares across the counties' border: 4 + 4 − 2 km²
    lines = _frame([_box(8_000, 0, 2_000, 2_000), _box(9_000, 0, 2_000, 2_000)], BSM=[1, 2])
    # 50 × 50 parcels of 400 m (half of them outside the counties), 01 left, 03 right
    xs, ys = np.meshgrid(np.arange(50) * 400.0, np.arange(50) * 400.0)
    cells = [_box(x, y, 400, 400) for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]
    codes = ["0101" if x < 10_000 else "0301" for x in xs.ravel()]
    if overlap_in_grid:  # a parcel digitised twice
        cells.append(cells[0])
        codes.append("0101")
    grid = _frame(cells, BSM=list(range(len(cells))), DLBM=codes)
    pts = _frame([shapely.Point(X0 + 5_000, Y0 + 5), shapely.Point(X0 + 15_000, Y0 + 5),
                  shapely.Point(X0 + 16_000, Y0 + 5)], BSM=[1, 2, 3])  # fmt: skip
    return {"xian": xian, "lines": lines, "grid": grid, "pts": pts}


def _model(catalog: Catalog, tmp_path: Path, formulas: dict[str, tuple[str, str]]) -> Model:
    (tmp_path / "values.csv").write_text(
        "name,scope,code,year,value\npeople,county,430801,2025,1000\npeople,county,430802,2025,0\n",
        encoding="utf-8",
    )
    doc = {
        "year": 2025,
        "values": "values.csv",
        "indicators": [
            {"id": key, "name": {"zh": key, "en": key}, "unit": unit, "kind": "expected",
             "formula": formula}
            for key, (unit, formula) in formulas.items()
        ],
    }  # fmt: skip
    return parse_model(doc, tmp_path / "indicators.yml", catalog)


FORMULAS = {
    "red": ("km²", "area(lines)"),
    "farm": ("公顷", 'area(grid, code="01")'),
    "forest_share": ("%", 'share(area(grid, code=["03"]), area(xian))'),
    "red_in_farm": ("km²", 'overlap(lines, select(grid, code="01"))'),
    "points": ("count", "count(pts)"),
    "per_person": ("m²/人", "ratio(area(lines), value(people))"),
}


@pytest.mark.parametrize("overlap_in_grid", [False, True])
def test_figures(catalog: Catalog, tmp_path: Path, overlap_in_grid: bool) -> None:
    frames = _frames(overlap_in_grid)
    model = _model(catalog, tmp_path, FORMULAS)
    evaluator = Evaluator(catalog, frames.__getitem__, model)
    assert evaluator.is_coverage("grid") is not overlap_in_grid
    units = scope_units(catalog, frames["xian"], None)
    assert [u.key for u in units] == [
        ("city", "430800"),
        ("county", "430801"),
        ("county", "430802"),
    ]
    got = {
        (r.indicator.id, r.unit.code): r.value for r in evaluate(evaluator, model.indicators, units)
    }
    assert got[("red", "430800")] == pytest.approx(6.0)  # the overlap counted once
    assert got[("red", "430801")] == pytest.approx(4.0)  # clipped at the border
    assert got[("red", "430802")] == pytest.approx(2.0)
    assert got[("farm", "430800")] == pytest.approx(10_000.0)  # 100 km² in 公顷, once
    assert got[("farm", "430802")] == pytest.approx(0.0)
    assert got[("forest_share", "430802")] == pytest.approx(100.0)
    assert got[("forest_share", "430800")] == pytest.approx(50.0)
    assert got[("red_in_farm", "430800")] == pytest.approx(4.0)
    assert got[("points", "430801")] == 1 and got[("points", "430802")] == 2
    assert got[("points", "430800")] == 3
    assert got[("per_person", "430801")] == pytest.approx(4_000.0)
    assert got[("per_person", "430802")] is None  # divided by 0
    assert got[("per_person", "430800")] is None  # no figure for the city


def test_targets_naming_no_unit_are_reported(catalog: Catalog, tmp_path: Path) -> None:
    from publish.release.outputs.monitoring import unmatched_targets

    model = _model(catalog, tmp_path, {"red": ("km²", "area(lines)")})
    target = Target("county", "439999", 2035, "at_least", 1.0, 0.02)
    indicator = replace(model.indicators[0], targets=(target, replace(target, code="430801")))
    units = scope_units(catalog, _frames(False)["xian"], None)
    assert unmatched_targets([indicator], units) == [
        "red: a 2035 target names county 439999, which no admin feature has"
    ]


def test_reused_only_when_nothing_changed(catalog: Catalog, tmp_path: Path) -> None:
    from publish.indicators.reuse import reused_results

    model = _model(catalog, tmp_path, {"red": ("km²", "area(lines)"),
                                       "per_person": ("m²/人", "ratio(area(lines), value(people))")})  # fmt: skip
    red, per_person = model.indicators
    units = scope_units(catalog, _frames(False)["xian"], None)
    manifest = {"layers": {"lines": {"fingerprint": "a"}, "xian": {"fingerprint": "x"}}}
    doc = {
        "indicators": [red.document(), per_person.document()],
        "results": [{"indicator": "red", "scope": u.scope, "code": u.code, "value": 1.5} for u in units],
    }  # fmt: skip

    def reuse(indicator: Any = red, **change: Any) -> Any:
        kwargs = {"manifest": manifest, "previous_manifest": manifest, "previous_doc": doc}
        return reused_results(indicator, units, ["xian"], **(kwargs | change))

    kept = reuse()
    assert [(r.unit.key, r.value) for r in kept] == [(u.key, 1.5) for u in units]
    other = {"layers": {"lines": {"fingerprint": "b"}, "xian": {"fingerprint": "x"}}}
    assert reuse(previous_manifest=other) is None  # the layer changed
    counties = {"layers": {"lines": {"fingerprint": "a"}, "xian": {"fingerprint": "y"}}}
    assert reuse(previous_manifest=counties) is None  # the units changed
    assert reuse(per_person) is None  # value(): always computed
    assert reuse(replace(red, formula_text="area( lines )")) is None
    assert reuse(previous_doc={**doc, "results": doc["results"][:1]}) is None
    assert reuse(previous_doc=None) is None


def test_a_coverage_test_done_beforehand_is_taken(catalog: Catalog, tmp_path: Path) -> None:
    """The build tests a large layer in the background once it is read: the evaluator takes
    that verdict instead of testing again, and either way the figures are the same."""
    frames = _frames(False)
    model = _model(catalog, tmp_path, FORMULAS)
    units = scope_units(catalog, frames["xian"], None)
    asked: list[str] = []

    def known(layer: str) -> bool | None:
        asked.append(layer)
        return False if layer == "grid" else None  # as if it were not a coverage: union path

    told = Evaluator(catalog, frames.__getitem__, model, coverage=known)
    assert told.is_coverage("grid") is False and told.is_coverage("grid") is False
    assert asked == ["grid"]  # asked once, then kept
    tested = Evaluator(catalog, frames.__getitem__, model)
    assert tested.is_coverage("grid") is True
    figures = [
        {(r.indicator.id, r.unit.code): r.value for r in evaluate(e, model.indicators, units)}
        for e in (told, tested)
    ]
    assert figures[0] == pytest.approx(figures[1])
