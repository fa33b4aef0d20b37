"""CQL2 filters (`filter`, cql2-text and cql2-json) and free-text search (`q`) on the session's full
release, each selection checked against the same selection made independently: the layer's table
read with GDAL (geopandas), compared in pandas and shapely."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from publish.ogc.cql import FilterError, parse_filter
from publish.standards import land_use_classes
from tests.server.helpers import TestClient

Client = tuple[TestClient, dict[str, str]]
Table = Callable[..., gpd.GeoDataFrame]
Mask = Callable[[gpd.GeoDataFrame], Any]
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"

# Literals inside the central city's planned land use (ydyh: lon 110.40–110.56, lat 29.04–29.21).
SQUARE = [(110.45, 29.10), (110.50, 29.10), (110.50, 29.15), (110.45, 29.15), (110.45, 29.10)]
SQUARE_WKT = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in SQUARE) + "))"
SQUARE_GEOM = shapely.Polygon(SQUARE)
POINT = shapely.Point(110.47, 29.12)
LINE = shapely.LineString([(110.41, 29.05), (110.55, 29.20)])
BIG = shapely.box(110.0, 28.9, 110.8, 29.5)  # a fifth of the city: villages, rivers, parcels
BIG_WKT = shapely.to_wkt(BIG, rounding_precision=6)


def _geo(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.values)


def _str(frame: gpd.GeoDataFrame, column: str) -> pd.Series:
    return frame[column].astype(str)


# (layer, cql2-text, expected selection of the layer's table)
TEXT_CASES: list[tuple[str, str, Mask]] = [
    ("ydyh", "YDYHFLDM = '1701'", lambda f: f.YDYHFLDM == "1701"),
    ("ydyh", "YDYHFLDM <> '1701'", lambda f: f.YDYHFLDM != "1701"),
    ("ydyh", "MJ > 500000", lambda f: f.MJ > 500000),
    ("ydyh", "MJ >= 500000 AND MJ < 1000000", lambda f: (f.MJ >= 500000) & (f.MJ < 1000000)),
    ("ydyh", "MJ <= 100000 OR MJ > 5000000", lambda f: (f.MJ <= 100000) | (f.MJ > 5000000)),
    ("ydyh", "NOT (MJ > 100000)", lambda f: ~(f.MJ > 100000)),
    ("ydyh", "YDYHFLDM LIKE '07%'", lambda f: f.YDYHFLDM.str.startswith("07")),
    ("ydyh", "YDYHFLDM NOT LIKE '07%'", lambda f: ~f.YDYHFLDM.str.startswith("07")),
    ("ydyh", "YDYHFLDM LIKE '0_01'", lambda f: f.YDYHFLDM.str.fullmatch(r"0.01")),
    ("ydyh", "XZQMC LIKE '%街道'", lambda f: f.XZQMC.str.endswith("街道")),
    ("ydyh", "YDYHFLDM LIKE '%'", lambda f: f.YDYHFLDM.notna()),
    (
        "ydyh",
        "YDYHFLDM IN ('1701', '1207', '0101')",
        lambda f: f.YDYHFLDM.isin(["1701", "1207", "0101"]),
    ),
    ("ydyh", "YDYHFLDM NOT IN ('1701', '1207')", lambda f: ~f.YDYHFLDM.isin(["1701", "1207"])),
    ("ydyh", "MJ BETWEEN 100000 AND 300000", lambda f: f.MJ.between(100000, 300000)),
    ("ydyh", "MJ NOT BETWEEN 100000 AND 300000", lambda f: ~f.MJ.between(100000, 300000)),
    ("ydyh", "BSM IS NULL", lambda f: f.BSM.isna()),
    ("ydyh", "BSM IS NOT NULL", lambda f: f.BSM.notna()),
    ("ydyh", "MJ * 2 > 1000000", lambda f: f.MJ * 2 > 1000000),
    ("ydyh", "MJ / 1000 >= 500.5", lambda f: f.MJ / 1000 >= 500.5),
    ("ydyh", "BSM - 700000000 < 100", lambda f: f.BSM - 700000000 < 100),
    ("ydyh", "BSM / 2 = 350000000.5", lambda f: f.BSM / 2 == 350000000.5),  # not whole division
    ("ydyh", "MJ + area_m2 > 2000000", lambda f: f.MJ + f.area_m2 > 2000000),
    (
        "ydyh",
        "XZQMC = '银桥镇' AND YDYHFLDM LIKE '1%'",
        lambda f: (f.XZQMC == "银桥镇") & f.YDYHFLDM.str.startswith("1"),
    ),
    (
        "ydyh",
        "(YDYHFLDM = '1701' OR YDYHFLDM = '1207') AND MJ > 200000",
        lambda f: f.YDYHFLDM.isin(["1701", "1207"]) & (f.MJ > 200000),
    ),
    (
        "ydyh",
        "YDYHFLDM = '1701' OR YDYHFLDM = '1207' AND MJ > 200000",  # AND binds tighter
        lambda f: (f.YDYHFLDM == "1701") | ((f.YDYHFLDM == "1207") & (f.MJ > 200000)),
    ),
    (
        "ydyh",
        "MJ > 200000 OR YDYHFLDM = '1701' AND MJ < 0",  # (a OR b) AND c would select nothing
        lambda f: f.MJ > 200000,
    ),
    (
        "ydyh",
        "NOT (YDYHFLDM LIKE '07%' OR MJ > 200000) AND NOT NOT MJ > 1000",
        lambda f: ~(f.YDYHFLDM.str.startswith("07") | (f.MJ > 200000)) & (f.MJ > 1000),
    ),
    (
        "ydyh",
        "S_INTERSECTS(geometry, POINT(110.47 29.12))",
        lambda f: shapely.intersects(_geo(f), POINT),
    ),
    (
        "ydyh",
        f"S_INTERSECTS(geometry, {SQUARE_WKT})",
        lambda f: shapely.intersects(_geo(f), SQUARE_GEOM),
    ),
    ("ydyh", f"S_WITHIN(geometry, {SQUARE_WKT})", lambda f: shapely.within(_geo(f), SQUARE_GEOM)),
    (
        "ydyh",
        f"S_DISJOINT(geometry, {SQUARE_WKT})",
        lambda f: shapely.disjoint(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        f"NOT S_INTERSECTS(geometry, {SQUARE_WKT})",
        lambda f: ~shapely.intersects(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        f"S_OVERLAPS(geometry, {SQUARE_WKT})",
        lambda f: shapely.overlaps(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        f"S_TOUCHES(geometry, {SQUARE_WKT})",
        lambda f: shapely.touches(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        "S_INTERSECTS(geometry, LINESTRING(110.41 29.05, 110.55 29.2))",
        lambda f: shapely.intersects(_geo(f), LINE),
    ),
    (
        "ydyh",
        "S_CROSSES(geometry, LINESTRING(110.41 29.05, 110.55 29.2))",
        lambda f: shapely.crosses(_geo(f), LINE),
    ),
    (
        "ydyh",
        "S_CONTAINS(geometry, POINT(110.47 29.12))",
        lambda f: shapely.contains(_geo(f), POINT),
    ),
    (
        "ydyh",
        "S_WITHIN(POINT(110.47 29.12), geometry)",  # the literal first: mirrored
        lambda f: shapely.contains(_geo(f), POINT),
    ),
    (
        "ydyh",
        "S_INTERSECTS(geometry, ENVELOPE(110.45 29.1 110.5 29.15))",
        lambda f: shapely.intersects(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        f"S_INTERSECTS(geometry, {SQUARE_WKT}) AND YDYHFLDM LIKE '07%'",
        lambda f: shapely.intersects(_geo(f), SQUARE_GEOM) & f.YDYHFLDM.str.startswith("07"),
    ),
    (
        "ydyh",
        f"S_WITHIN(geometry, {SQUARE_WKT}) OR MJ > 5000000",
        lambda f: shapely.within(_geo(f), SQUARE_GEOM) | (f.MJ > 5000000),
    ),
    ("dltb", "DLBM = '0101'", lambda f: f.DLBM == "0101"),
    (
        "dltb",
        "DLBM LIKE '03%' AND MJ > 1000000",
        lambda f: f.DLBM.str.startswith("03") & (f.MJ > 1000000),
    ),
    ("dltb", f"S_WITHIN(geometry, {BIG_WKT})", lambda f: shapely.within(_geo(f), BIG)),
    ("cun", f"S_WITHIN(geometry, {BIG_WKT})", lambda f: shapely.within(_geo(f), BIG)),
    ("cun", "CJMC LIKE '%村'", lambda f: _str(f, "CJMC").str.endswith("村")),
    ("hl", f"S_INTERSECTS(geometry, {BIG_WKT})", lambda f: shapely.intersects(_geo(f), BIG)),
    ("hl", f"S_CROSSES(geometry, {BIG_WKT})", lambda f: shapely.crosses(_geo(f), BIG)),
]


def _json_polygon(ring: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(point) for point in ring]]}


def _prop(name: str) -> dict[str, str]:
    return {"property": name}


JSON_CASES: list[tuple[str, dict[str, Any], Mask]] = [
    ("ydyh", {"op": "=", "args": [_prop("YDYHFLDM"), "1701"]}, lambda f: f.YDYHFLDM == "1701"),
    (
        "ydyh",
        {
            "op": "and",
            "args": [
                {"op": ">", "args": [_prop("MJ"), 500000]},
                {"op": "like", "args": [_prop("YDYHFLDM"), "07%"]},
            ],
        },
        lambda f: (f.MJ > 500000) & f.YDYHFLDM.str.startswith("07"),
    ),
    (
        "ydyh",
        {"op": "between", "args": [_prop("MJ"), 100000, 300000]},
        lambda f: f.MJ.between(100000, 300000),
    ),
    (
        "ydyh",
        {"op": "in", "args": [_prop("YDYHFLDM"), ["1701", "1207"]]},
        lambda f: f.YDYHFLDM.isin(["1701", "1207"]),
    ),
    (
        "ydyh",
        {"op": "not", "args": [{"op": "isNull", "args": [_prop("BSM")]}]},
        lambda f: f.BSM.notna(),
    ),
    (
        "ydyh",
        {"op": "s_intersects", "args": [_prop("geometry"), _json_polygon(SQUARE)]},
        lambda f: shapely.intersects(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        {"op": "s_within", "args": [_prop("geometry"), {"bbox": [110.45, 29.10, 110.50, 29.15]}]},
        lambda f: shapely.within(_geo(f), SQUARE_GEOM),
    ),
    (
        "ydyh",
        {
            "op": "or",
            "args": [
                {
                    "op": "s_contains",
                    "args": [_prop("geometry"), {"type": "Point", "coordinates": [110.47, 29.12]}],
                },
                {"op": "<", "args": [_prop("MJ"), 50000]},
            ],
        },
        lambda f: shapely.contains(_geo(f), POINT) | (f.MJ < 50000),
    ),
    (
        "dltb",
        {"op": "<>", "args": [_prop("DLBM"), "0301"]},
        lambda f: f.DLBM != "0301",
    ),
]


def _all_items(client: TestClient, layer: str, **params: Any) -> tuple[list[int], int]:
    """Every id the items request selects (pages of 10,000) and its numberMatched."""
    r = client.get(
        f"/ogc/collections/{layer}/items",
        params={"skipGeometry": "true", "limit": 10000, **params},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numberReturned"] == len(body["features"])
    return [int(f["id"]) for f in body["features"]], int(body["numberMatched"])


def _expected(frame: gpd.GeoDataFrame, mask: Mask) -> list[int]:
    selected = np.asarray(mask(frame), dtype=bool)
    return sorted(int(i) for i in frame.index[selected])


def test_there_are_forty_expressions() -> None:
    assert len(TEXT_CASES) + len(JSON_CASES) >= 40


@pytest.mark.parametrize(("layer", "text", "mask"), TEXT_CASES, ids=[c[1][:60] for c in TEXT_CASES])
def test_cql2_text_selects_what_geopandas_selects(
    full_client: Client, feature_table: Table, layer: str, text: str, mask: Mask
) -> None:
    client, _ = full_client
    ids, matched = _all_items(client, layer, filter=text)
    expected = _expected(feature_table(layer), mask)
    assert sorted(ids) == expected
    assert matched == len(expected)


@pytest.mark.parametrize(
    ("layer", "document", "mask"), JSON_CASES, ids=[json.dumps(c[1])[:60] for c in JSON_CASES]
)
def test_cql2_json_selects_what_geopandas_selects(
    full_client: Client, feature_table: Table, layer: str, document: dict[str, Any], mask: Mask
) -> None:
    client, _ = full_client
    ids, matched = _all_items(
        client, layer, filter=json.dumps(document), **{"filter-lang": "cql2-json"}
    )
    expected = _expected(feature_table(layer), mask)
    assert sorted(ids) == expected
    assert matched == len(expected)


def test_the_table_selects_something_and_not_everything(feature_table: Table) -> None:
    """Most cases must tell a working filter from one that selects all or nothing."""
    telling = 0
    for layer, _text, mask in TEXT_CASES:
        frame = feature_table(layer)
        count = len(_expected(frame, mask))
        telling += 0 < count < len(frame)
    assert telling >= 35


def test_pages_of_a_filter_with_bbox_equality_and_sortby_agree(
    full_client: Client, feature_table: Table
) -> None:
    client, _ = full_client
    frame = feature_table("ydyh")
    box = (110.42, 29.06, 110.54, 29.19)
    town = frame.XZQMC.value_counts().index[0]
    params = {
        "filter": "YDYHFLDM LIKE '0%' OR MJ > 300000",
        "bbox": ",".join(map(str, box)),
        "XZQMC": town,
        "sortby": "-MJ",
        "skipGeometry": "true",
    }
    hit = shapely.intersects(_geo(frame), shapely.box(*box))
    chosen = frame[
        hit & frame.XZQMC.eq(town) & (frame.YDYHFLDM.str.startswith("0") | (frame.MJ > 300000))
    ]
    expected = [int(i) for i in chosen.sort_values("MJ", ascending=False, kind="stable").index]
    assert 10 < len(expected) < len(frame)
    seen: list[int] = []
    for offset in range(0, len(expected) + 7, 7):
        r = client.get(
            "/ogc/collections/ydyh/items", params={**params, "limit": 7, "offset": offset}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["numberMatched"] == len(expected)
        seen += [int(f["id"]) for f in body["features"]]
        mj = [f["properties"]["MJ"] for f in body["features"]]
        assert mj == sorted(mj, reverse=True)
    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)
    r = client.get("/ogc/collections/ydyh/items", params={**params, "limit": 7})
    next_link = next(link["href"] for link in r.json()["links"] if link["rel"] == "next")
    assert "filter=YDYHFLDM" in next_link and "offset=7" in next_link  # the filter is kept


def _square_in(crs: str) -> str:
    """The square as WKT in `crs`, in that CRS's authority axis order."""
    to = Transformer.from_crs("OGC:CRS84", crs)
    points = [to.transform(x, y) for x, y in SQUARE]
    return "POLYGON((" + ", ".join(f"{a:.9f} {b:.9f}" for a, b in points) + "))"


@pytest.mark.parametrize("code", ["4326", "4490", "4546"])
def test_filter_crs(full_client: Client, feature_table: Table, code: str) -> None:
    client, _ = full_client
    wkt = _square_in(f"EPSG:{code}")
    first = float(wkt.removeprefix("POLYGON((").split()[0])
    assert first > 1000 if code == "4546" else 29 < first < 30  # northing, latitude first
    ids, matched = _all_items(
        client, "ydyh", filter=f"S_INTERSECTS(geometry, {wkt})", **{"filter-crs": EPSG + code}
    )
    expected = _expected(feature_table("ydyh"), lambda f: shapely.intersects(_geo(f), SQUARE_GEOM))
    if code == "4546":  # a square in metres is not the square in degrees: compare in shapely
        square = shapely.from_wkt(wkt)
        back = Transformer.from_crs("EPSG:4546", "OGC:CRS84")
        lonlat = shapely.transform(
            square, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1]))
        )
        expected = _expected(feature_table("ydyh"), lambda f: shapely.intersects(_geo(f), lonlat))
    assert sorted(ids) == expected and matched == len(expected) > 0


def test_filter_with_crs_output(full_client: Client) -> None:
    client, _ = full_client
    params = {"filter": "YDYHFLDM = '1701'", "crs": EPSG + "4546", "limit": 3}
    r = client.get("/ogc/collections/ydyh/items", params=params)
    assert r.status_code == 200, r.text
    x, _y = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert x > 3_000_000  # northing first


def test_free_text_search_finds_the_code_name(full_client: Client, feature_table: Table) -> None:
    client, _ = full_client
    codes = [c.code for c in land_use_classes().values() if "水田" in c.name]
    assert codes == ["0101"]
    ids, matched = _all_items(client, "dltb", q="水田")
    expected = _expected(feature_table("dltb"), lambda f: f.DLBM == "0101")
    assert sorted(ids) == expected and matched == len(expected) > 0
    ids, _ = _all_items(client, "dltb", q="水田,旱地")
    expected = _expected(feature_table("dltb"), lambda f: f.DLBM.isin(["0101", "0103"]))
    assert sorted(ids) == expected
    ids, _ = _all_items(client, "dltb", q="水田", filter="MJ > 1000000")
    expected = _expected(feature_table("dltb"), lambda f: (f.DLBM == "0101") & (f.MJ > 1000000))
    assert sorted(ids) == expected


def test_free_text_search_on_the_name_field(full_client: Client, feature_table: Table) -> None:
    client, _ = full_client
    frame = feature_table("cun")
    term = str(frame.CJMC.iloc[0])[:2]
    ids, matched = _all_items(client, "cun", q=term)
    expected = _expected(frame, lambda f: _str(f, "CJMC").str.contains(term, regex=False))
    assert sorted(ids) == expected and matched == len(expected) > 0
    ids, _ = _all_items(client, "cun", q="没有这个村")
    assert ids == []


def test_free_text_search_needs_a_field(full_client: Client) -> None:
    client, _ = full_client
    r = client.get("/ogc/collections/yjjbnt/items", params={"q": "水田"})
    assert r.status_code == 400
    assert "free-text search (q) is not available on yjjbnt" in r.text


def _alternating(levels: int) -> str:
    """A cql2-json filter of ANDs and ORs nested `levels` deep."""
    node: dict[str, Any] = {"op": ">", "args": [_prop("MJ"), 1]}
    for level in range(levels):
        other = {"op": "=", "args": [_prop("BSM"), level]}
        node = {"op": "and" if level % 2 else "or", "args": [node, other]}
    return json.dumps(node)


# -- bad input -----------------------------------------------------------------------------------

BAD: list[tuple[dict[str, str], str]] = [
    ({"filter": "MJ >"}, "ends too early at line 1, column 4"),
    ({"filter": "MJ = 'abc"}, 'unexpected "\'" at line 1, column 6'),
    ({"filter": "MJ = 1 AND"}, "ends too early"),
    ({"filter": "MJ = 1 %"}, "unexpected character '%' at line 1, column 8"),
    ({"filter": "FOO = 1"}, "ydyh has no queryable property 'FOO'"),
    ({"filter": "geom = 1"}, "no queryable property 'geom'"),
    ({"filter": "MJ > 'abc'"}, "a number cannot be compared with a string"),
    ({"filter": "XZQMC = 5"}, "a string cannot be compared with a number"),
    ({"filter": "MJ LIKE '1%'"}, "LIKE needs a text property"),
    ({"filter": "MJ BETWEEN 'a' AND 'b'"}, "BETWEEN compares a number with a string"),
    ({"filter": "YDYHFLDM IN ('1701', 5)"}, "IN compares a string with a number"),
    ({"filter": "XZQMC * 2 > 1"}, "arithmetic needs numbers"),
    ({"filter": "casei(XZQMC) = 'a'"}, "function lower() is not supported"),
    ({"filter": "MJ > 99999999999999999999"}, "out of range"),
    ({"filter": "S_INTERSECTS(MJ, POINT(110 29))"}, "needs the property 'geometry'"),
    ({"filter": "S_INTERSECTS(geometry, 'x')"}, "needs a geometry literal"),
    (
        {"filter": "S_INTERSECTS(geometry, POLYGON((110 29, 111 30, 111 29, 110 30, 110 29)))"},
        "the geometry literal is not valid: Self-intersection",
    ),
    ({"filter": "MJ T_AFTER TIMESTAMP('2020-01-01T00:00:00Z')"}, "temporal predicates"),
    ({"filter": "MJ = DATE('2020-01-01')"}, "date values are not supported"),
    ({"filter": " "}, "filter is empty"),
    (
        {"filter": "MJ > 1", "filter-lang": "ecql"},
        "filter-lang must be one of cql2-text, cql2-json",
    ),
    (
        {"filter": "MJ > 1", "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
        "filter-crs 'http://www.opengis.net/def/crs/EPSG/0/3857' is not offered",
    ),
    ({"filter": "{", "filter-lang": "cql2-json"}, "filter (cql2-json) is not JSON"),
    ({"filter": "[1]", "filter-lang": "cql2-json"}, "must be a JSON object"),
    (
        {"filter": '{"op": "foo", "args": []}', "filter-lang": "cql2-json"},
        "filter (cql2-json) is not a CQL2 expression",
    ),
    (
        {"filter": '{"op": "=", "args": [{"property": "MJ"}]}', "filter-lang": "cql2-json"},
        "is not a CQL2 expression",
    ),
    ({"filter": "MJ > 1", "filter-lang": "cql2-json"}, "is not JSON"),
    ({"filter": "MJ > 1 AND > 2"}, "unexpected '>' at line 1, column 12"),
    ({"filter": " OR ".join(["MJ > 1"] * 600)}, "more than 500 conditions"),
    ({"filter": _alternating(70), "filter-lang": "cql2-json"}, "nested more than 64 levels"),
]


@pytest.mark.parametrize(("params", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_filters_are_400_naming_the_problem(
    full_client: Client, params: dict[str, str], message: str
) -> None:
    client, _ = full_client
    r = client.get("/ogc/collections/ydyh/items", params=params)
    assert r.status_code == 400, r.text
    assert message in r.json()["description"]


INJECTIONS = [
    ("XZQMC = '1; DROP TABLE ydyh; --'", "empty"),
    ("XZQMC = 'x'' OR ''1''=''1'", "either"),
    ("BSM = 1) OR (1=1", "400"),
    ('"MJ\\" > 0 OR \\"1" = 1', "400"),
    ('"MJ"" > 0 OR ""1" > 0', "400"),
    ("\"XZQMC\" = 'a' UNION SELECT * FROM gpkg_contents --'", "400"),
    ("XZQMC LIKE '%'' OR 1=1 --'", "either"),
    ("XZQMC = '\x00'", "empty"),
    ("fid = 1", "400"),
    ("rtree_ydyh_geom.minx > 0", "400"),
    ("XZQMC LIKE '[*?'", "empty"),
]


@pytest.mark.parametrize(("text", "outcome"), INJECTIONS, ids=[t[0][:30] for t in INJECTIONS])
def test_injection_is_refused_or_finds_nothing(
    full_client: Client, text: str, outcome: str
) -> None:
    client, _ = full_client
    r = client.get("/ogc/collections/ydyh/items", params={"filter": text})
    assert r.status_code in (200, 400), r.text
    assert "sql" not in r.text.lower() and "sqlite" not in r.text.lower()
    if outcome == "400":
        assert r.status_code == 400
    if r.status_code == 200:
        assert outcome in ("empty", "either")
        assert r.json()["numberMatched"] == 0
    assert (
        client.get("/ogc/collections/ydyh/items", params={"limit": 1}).json()["numberMatched"] > 0
    )  # the table is still there


def test_a_filter_longer_than_any_url_is_refused() -> None:
    with pytest.raises(FilterError, match="longer than 100000 characters"):
        parse_filter("(" * 60000 + "MJ > 1" + ")" * 60000)


def test_parentheses_are_not_nesting(full_client: Client, feature_table: Table) -> None:
    client, _ = full_client
    ids, _ = _all_items(client, "ydyh", filter="(" * 300 + "MJ > 500000" + ")" * 300)
    assert sorted(ids) == _expected(feature_table("ydyh"), lambda f: f.MJ > 500000)
    chain = " OR ".join(f"BSM = {700000000 + n}" for n in range(1, 150))  # deep, not too deep
    ids, _ = _all_items(client, "ydyh", filter=chain)
    assert sorted(ids) == _expected(
        feature_table("ydyh"), lambda f: f.BSM.between(700000001, 700000149)
    )


def test_json_injection_in_a_property_name(full_client: Client) -> None:
    client, _ = full_client
    document = {"op": "=", "args": [{"property": 'MJ" OR 1=1 --'}, 1]}
    r = client.get(
        "/ogc/collections/ydyh/items",
        params={"filter": json.dumps(document), "filter-lang": "cql2-json"},
    )
    assert r.status_code == 400
    assert "no queryable property 'MJ\" OR 1=1 --'" in r.json()["description"]


# -- audiences -------------------------------------------------------------------------------------


def test_public_filters_never_reach_internal_layers(
    full_client: Client, feature_table: Table
) -> None:
    client, headers = full_client
    params = {"filter": "XMMC LIKE '%'"}
    assert client.get("/ogc/collections/spxm/items", params=params).status_code == 404
    assert client.get("/ogc/collections/spxm/queryables").status_code == 404
    r = client.get("/internal/ogc/collections/spxm/items", params=params)
    assert r.status_code == 401
    r = client.get("/internal/ogc/collections/spxm/items", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == len(feature_table("spxm", "internal")) > 0
    # a public layer's filter cannot name the internal table or its fields
    r = client.get("/ogc/collections/ydyh/items", params={"filter": "XMMC = 'x'"})
    assert r.status_code == 400 and "spxm" not in r.text


@pytest.mark.parametrize("language", ["zh-TW", "fr-FR", "*", "en-US;q=0.5, zh-CN"])
def test_accept_language_does_not_break_filters(full_client: Client, language: str) -> None:
    client, _ = full_client
    headers = {"Accept-Language": language}
    r = client.get(
        "/ogc/collections/ydyh/items",
        params={"filter": "YDYHFLDM = '1701'", "limit": 1},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    r = client.get("/ogc/collections/ydyh/items", params={"filter": "MJ >"}, headers=headers)
    assert r.status_code == 400
    r = client.get("/ogc/collections/ydyh/queryables", headers=headers)
    assert r.status_code == 200, r.text
    r = client.get(
        "/ogc/collections/ydyh/items", params={"filter": "MJ > 1", "f": "html"}, headers=headers
    )
    assert r.status_code == 200, r.text


# -- clients ---------------------------------------------------------------------------------------


def test_gdal_pushes_a_where_down_as_a_filter(
    server: tuple[str, str], source: Callable[[str], gpd.GeoDataFrame]
) -> None:
    """GDAL's OAPIF driver (3.6) finds `filter-lang` in the OpenAPI document and sends -where as
    a filter (its HTTP log shows each request), rather than fetching everything."""
    base, _token = server
    frame = source("stbhhx")
    cut = float(frame.MJ.median())
    done = subprocess.run(
        [
            "ogrinfo", "-ro", "-al", "-so", "-oo", "PAGE_SIZE=1000",
            f"OAPIF:{base}/ogc/", "stbhhx", "-where", f"MJ > {cut}",
        ],
        capture_output=True, text=True, timeout=120, env={**os.environ, "CPL_DEBUG": "ON"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    fetched = [line for line in done.stderr.splitlines() if "/collections/stbhhx/items" in line]
    assert fetched and all("filter=MJ" in line for line in fetched[1:]), fetched
    assert "filter-lang=cql-text" in fetched[-1]
    count = int(re.findall(r"Feature Count: (\d+)", done.stdout)[0])
    assert count == int(frame.MJ.gt(cut).sum()) > 0


def test_the_openapi_document_lists_the_filter_parameters(full_client: Client) -> None:
    client, _ = full_client
    doc = client.get("/ogc/openapi", params={"f": "json"}).json()
    listed = {
        p.get("$ref", "").rsplit("/", 1)[-1]
        for p in doc["paths"]["/collections/ydyh/items"]["get"]["parameters"]
    }
    assert {"filter", "filter-lang", "filter-crs", "q"} <= listed
    lang = doc["components"]["parameters"]["filter-lang"]["schema"]["enum"]
    assert lang == ["cql2-text", "cql2-json", "cql-text"]
    ids, _ = _all_items(client, "ydyh", filter="YDYHFLDM = '1701'", **{"filter-lang": "cql-text"})
    assert len(ids) > 0  # the draft's name GDAL sends is CQL2 text
