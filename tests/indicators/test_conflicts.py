"""The conflict analysis: on the sample city against an independent geopandas overlay, and on
small made-up squares whose answers are known."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from publish.catalog import Catalog, load_catalog
from publish.domain import PUBLIC
from publish.errors import BuildError
from publish.indicators.conflicts import (
    CURRENT_CONSTRUCTION,
    FARMLAND_CLASS,
    KINDS,
    PLANNED_CONSTRUCTION,
    SELECTIONS,
    SLIVER_M2,
    Conflicts,
    compute_conflicts,
    conflict_inputs,
    selected,
)
from publish.sources import read_layer_native

M = "EPSG:4546"  # the sample city's working CRS
BY_ID = {kind.id: kind for kind in KINDS}


@pytest.fixture(scope="module")
def catalog(sample_dir: Path) -> Catalog:
    return load_catalog(sample_dir / "layers.yml")


@pytest.fixture(scope="module")
def frames(catalog: Catalog) -> dict[str, gpd.GeoDataFrame]:
    """Each selection's whole layer (and the counties) read from the sources, in metres."""
    layers = conflict_inputs(catalog, {s.id for s in catalog.layers}) | {"counties": "xzq_xian"}
    return {name: read_layer_native(catalog.layer(lid)).to_crs(M) for name, lid in layers.items()}


@pytest.fixture(scope="module")
def found(catalog: Catalog, frames: dict[str, gpd.GeoDataFrame]) -> Conflicts:
    inputs = conflict_inputs(catalog, {s.id for s in catalog.layers})
    selections = {
        name: selected(frames[name], SELECTIONS[name], catalog.layer(lid).code_field, M)
        for name, lid in inputs.items()
    }
    return compute_conflicts(
        KINDS,
        selections,
        counties=frames["counties"],
        crs=M,
        city_code="430800",
        city_name="张家界市",
    )


def _of(frame: gpd.GeoDataFrame, field: str, classes: tuple[str, ...]) -> gpd.GeoDataFrame:
    return frame[frame[field].astype(str).str[:2].isin(classes)][["geometry"]]


def _overlay_areas(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, pd.Series]:
    """The kinds' areas by county code, from gpd.overlay on the layers as read."""
    current, planned = frames["current_construction"], frames["planned_construction"]
    subjects = {
        "current_construction": _of(current, "DLBM", CURRENT_CONSTRUCTION),
        "current_farmland": _of(current, "DLBM", FARMLAND_CLASS),
        "planned_construction": _of(planned, "YDYHFLDM", PLANNED_CONSTRUCTION),
    }
    others = {
        "red_line": frames["red_line"][["geometry"]].dissolve(),
        "farmland": frames["farmland"][["geometry"]].dissolve(),
        "planned_construction": subjects["planned_construction"].dissolve(),
    }
    counties = frames["counties"][["XZQDM", "geometry"]]
    out = {}
    for kind in KINDS:
        how = "intersection" if kind.inside else "difference"
        pieces = gpd.overlay(subjects[kind.subject], others[kind.other], how=how)
        by_county = gpd.overlay(pieces, counties, how="intersection")
        out[kind.id] = by_county.area.groupby(by_county["XZQDM"]).sum()
    return out


def test_areas_equal_an_independent_overlay(
    found: Conflicts, frames: dict[str, gpd.GeoDataFrame]
) -> None:
    expected = _overlay_areas(frames)
    rows = {(r["kind"], r["code"]): r for r in found.areas}
    for kind in KINDS:
        for code in ("430802", "430811", "430821", "430822"):
            want = float(expected[kind.id].get(code, 0.0))
            got = rows[kind.id, code]["area_m2"]
            assert got == pytest.approx(want, rel=0.001, abs=10 * SLIVER_M2), (kind.id, code)
        city = rows[kind.id, "430800"]
        assert city["area_m2"] == pytest.approx(float(expected[kind.id].sum()), rel=0.001)


def test_the_sample_has_every_kind_of_conflict(found: Conflicts) -> None:
    city = {r["kind"]: r for r in found.areas if r["scope"] == "city"}
    assert list(city) == [kind.id for kind in KINDS]
    for kind in KINDS:
        assert city[kind.id]["area_m2"] > 10_000, kind.id
        assert city[kind.id]["features"] > 0
    # the current farmland that is not protected is by far the largest
    assert max(city.values(), key=lambda r: r["area_m2"])["kind"] == "farmland_outside_protection"


def test_rows_every_kind_and_unit_counties_sum_to_the_city(found: Conflicts) -> None:
    assert len(found.areas) == len(KINDS) * 5  # the city and its four counties, zeros included
    for kind in KINDS:
        rows = [r for r in found.areas if r["kind"] == kind.id]
        assert [r["scope"] for r in rows] == ["city"] + ["county"] * 4
        assert [r["code"] for r in rows[1:]] == ["430802", "430811", "430821", "430822"]
        assert rows[1]["name"] == "永定区"
        assert sum(r["area_m2"] for r in rows[1:]) == pytest.approx(rows[0]["area_m2"], abs=1)
        assert sum(r["features"] for r in rows[1:]) == rows[0]["features"]
        for row in rows:
            assert row["area_ha"] == pytest.approx(row["area_m2"] / 1e4, abs=1e-4)


def test_polygons_are_the_areas(found: Conflicts) -> None:
    polygons = found.polygons
    assert list(polygons.columns) == ["kind", "name_zh", "name_en", "area_m2", "county", "geometry"]
    assert polygons.crs == M
    assert set(shapely.get_type_id(polygons.geometry.array)) == {shapely.GeometryType.POLYGON}
    assert (polygons["area_m2"] >= SLIVER_M2).all()
    assert np.allclose(polygons["area_m2"], polygons.area, atol=0.06)
    for row in found.areas:
        if row["scope"] == "county":
            mine = polygons[(polygons["kind"] == row["kind"]) & (polygons["county"] == row["code"])]
            assert len(mine) == row["features"]
            assert mine["area_m2"].sum() == pytest.approx(row["area_m2"], abs=1)
    names = polygons.drop_duplicates("kind").set_index("kind")
    for kind in KINDS:
        assert (names.loc[kind.id, "name_zh"], names.loc[kind.id, "name_en"]) == (kind.zh, kind.en)


# -- made-up squares: exact answers --------------------------------------------------------------


def _squares(
    *boxes: tuple[float, float, float, float], **columns: list[object]
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.box(*b) for b in boxes], crs=M)


COUNTIES = _squares(
    (0, 0, 1000, 1000), (1000, 0, 2000, 1000), XZQDM=["430802", "430811"], XZQMC=["甲", "乙"]
)


def _run(kind_id: str, subject: gpd.GeoDataFrame, other: gpd.GeoDataFrame) -> Conflicts:
    kind = BY_ID[kind_id]
    everything = replace(SELECTIONS[kind.subject], classes=None)
    selections = {
        kind.subject: selected(subject, everything, None, M),
        kind.other: selected(other, SELECTIONS["red_line"], None, M),
    }
    return compute_conflicts([kind], selections, counties=COUNTIES, crs=M)


def _areas(found: Conflicts) -> dict[str | None, float]:
    return {r["code"]: r["area_m2"] for r in found.areas}


def test_inside_is_cut_at_the_line_and_split_by_county() -> None:
    # a parcel half inside the red line, one across the county boundary, one far outside;
    # two red-line features overlap: their overlap counts once
    subject = _squares((0, 0, 100, 100), (900, 500, 1100, 600), (1500, 800, 1600, 900))
    red = _squares((50, 0, 1050, 1000), (50, 0, 300, 1000))
    found = _run("current_construction_in_red_line", subject, red)
    areas = _areas(found)
    assert areas == {None: 5000 + 15000, "430802": 5000 + 10000, "430811": 5000}
    assert [r["features"] for r in found.areas] == [3, 2, 1]


def test_neighbours_merge_into_one_patch_and_overlaps_count_once() -> None:
    # two neighbouring parcels inside the red line are one patch; a third overlaps the first
    subject = _squares((0, 0, 100, 100), (100, 0, 200, 100), (50, 0, 150, 100), (500, 0, 600, 50))
    found = _run("current_construction_in_red_line", subject, _squares((0, 0, 1000, 1000)))
    assert _areas(found)["430802"] == 20000 + 5000
    assert [r["features"] for r in found.areas] == [2, 2, 0]
    assert sorted(found.polygons["area_m2"]) == [5000, 20000]


def test_outside_takes_the_line_away() -> None:
    # a farmland parcel half protected, one entirely protected (no conflict), one unprotected,
    # one across two protected features
    subject = _squares((0, 0, 100, 100), (200, 0, 300, 100), (400, 0, 500, 100), (600, 0, 700, 100))
    farmland = _squares((50, -50, 150, 150), (200, 0, 300, 100), (600, 0, 630, 100))
    farmland = pd.concat([farmland, _squares((670, 0, 700, 100))], ignore_index=True)
    found = _run("farmland_outside_protection", subject, farmland)
    assert _areas(found)["430802"] == 5000 + 10000 + 4000
    assert set(found.polygons["county"]) == {"430802"}


def test_slivers_below_a_square_metre_are_dropped() -> None:
    subject = _squares((0, 0, 100, 100), (200, 0, 300, 100))
    red = _squares((99.995, 0, 150, 100), (250, 0, 300, 100))  # 0.5 m² of the first parcel
    found = _run("current_construction_in_red_line", subject, red)
    assert _areas(found)["430802"] == 5000
    assert len(found.polygons) == 1


def test_nothing_found_is_zero_rows() -> None:
    found = _run(
        "current_construction_in_red_line", _squares((0, 0, 10, 10)), _squares((500, 500, 600, 600))
    )
    assert [(r["scope"], r["area_m2"], r["features"]) for r in found.areas] == [
        ("city", 0.0, 0),
        ("county", 0.0, 0),
        ("county", 0.0, 0),
    ]
    assert len(found.polygons) == 0


def test_without_counties_the_city_only() -> None:
    kind = BY_ID["current_construction_in_red_line"]
    square = np.array([shapely.box(0, 0, 100, 100)], dtype=object)
    found = compute_conflicts(
        [kind],
        {kind.subject: square, kind.other: np.array([shapely.box(0, 0, 10, 100)], dtype=object)},
        counties=None,
        crs=M,
        city_code="430800",
    )
    assert [(r["scope"], r["code"], r["area_m2"]) for r in found.areas] == [
        ("city", "430800", 1000)
    ]
    assert found.polygons["county"].isna().all()


def test_selection_by_first_level_code_and_repair() -> None:
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # invalid: repaired
    frame = _squares((0, 0, 1, 1), (0, 0, 1, 1), (0, 0, 1, 1), DLBM=["0701", "1207", "0101"])
    frame.loc[3] = ["0901", bowtie]
    frame.loc[4] = ["0601", None]
    geoms = selected(frame, SELECTIONS["current_construction"], "DLBM", M)
    assert len(geoms) == 3 and shapely.is_valid(geoms).all()
    assert len(selected(frame, SELECTIONS["current_farmland"], "DLBM", M)) == 1


def test_bad_inputs_are_named() -> None:
    frame = _squares((0, 0, 1, 1), DLBM=["0701"])
    with pytest.raises(BuildError, match="current_construction must be in EPSG:4546"):
        selected(frame.to_crs(4326), SELECTIONS["current_construction"], "DLBM", M)
    with pytest.raises(BuildError, match="no code field"):
        selected(frame, SELECTIONS["current_construction"], "YDYHFLDM", M)
    with pytest.raises(BuildError, match="needs the selection 'red_line'"):
        compute_conflicts(
            [KINDS[0]], {"current_construction": frame.geometry.array}, counties=None, crs=M
        )
    with pytest.raises(BuildError, match="no XZQMC column"):
        compute_conflicts(
            [KINDS[0]],
            {"current_construction": frame.geometry.array, "red_line": frame.geometry.array},
            counties=COUNTIES[["XZQDM", "geometry"]],
            crs=M,
        )


def test_kinds_follow_the_layers_an_audience_sees(catalog: Catalog) -> None:
    every = conflict_inputs(catalog, {s.id for s in catalog.layers})
    assert every == {
        "current_construction": "dltb",
        "current_farmland": "dltb",
        "planned_construction": "ydyh",
        "red_line": "stbhhx",
        "farmland": "yjjbnt",
    }
    # were the red line internal, the public would get no kind that uses it
    hidden = replace(catalog.layer("stbhhx"), access="internal")
    restricted = replace(
        catalog, layers=tuple(hidden if s.id == "stbhhx" else s for s in catalog.layers)
    )
    public = conflict_inputs(restricted, {s.id for s in restricted.for_audience(PUBLIC)})
    assert "red_line" not in public
    assert len([k for k in KINDS if k.subject in public and k.other in public]) == 4
