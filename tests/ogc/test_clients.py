"""Third-party clients against a real server (uvicorn on 127.0.0.1): GDAL's OAPIF driver (Debian's
ogrinfo/ogr2ogr 3.6, and pyogrio's GDAL for EPSG:4490, which 3.6 cannot ask for) and OWSLib."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

from tests.ogc.conftest import PUBLIC
from tests.ogc.test_features import expected_ids, inner_box, same_vertices

Source = Callable[[str], gpd.GeoDataFrame]


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def listed(ogrinfo_output: str) -> set[str]:
    return set(re.findall(r"^\d+: (\w+)", ogrinfo_output, flags=re.MULTILINE))


def test_ogrinfo_lists_the_public_collections(server: tuple[str, str]) -> None:
    base, token = server
    assert listed(run("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc/")) == set(PUBLIC)
    internal = run(
        "ogrinfo", "-ro", "-so", "-oo", f"USERPWD=qgis:{token}", f"OAPIF:{base}/internal/ogc/"
    )
    assert listed(internal) == {*PUBLIC, "spxm"}


def test_ogr2ogr_copies_a_collection(
    server: tuple[str, str], source: Source, tmp_path: Path
) -> None:
    base, _token = server
    out = tmp_path / "stbhhx.geojson"
    run(
        "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{base}/ogc/", "stbhhx",
        "-oo", "PAGE_SIZE=20",
    )  # fmt: skip
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    frame = source("stbhhx")
    assert len(frame) > 20  # GDAL had to page
    assert len(features) == len(frame)
    by_bsm = {f["properties"]["BSM"]: f for f in features}
    for _fid, row in frame.iterrows():
        got = by_bsm[row["BSM"]]["properties"]
        for name in ("HXMC", "HXLX", "XZQDM", "XZQMC"):
            assert got[name] == row[name], name
        assert got["MJ"] == pytest.approx(row["MJ"])
        geom = shapely.geometry.shape(by_bsm[row["BSM"]]["geometry"])
        assert same_vertices(geom, row.geometry, 1e-7)


def test_gdal_reads_epsg_4490(server: tuple[str, str], source: Source) -> None:
    base, _token = server
    frame = source("hl")
    read = pyogrio.read_dataframe(f"OAPIF:{base}/ogc/", layer="hl", CRS="EPSG:4490")
    assert read.crs.to_epsg() == 4490
    assert len(read) == len(frame)
    by_bsm = read.set_index("BSM")
    for _fid, row in frame.iterrows():  # GDAL turns the server's lat/lon back into lon/lat
        assert same_vertices(by_bsm.loc[row["BSM"]].geometry, row.geometry, 1e-7)


def test_owslib_reads_items_in_a_bbox(server: tuple[str, str], source: Source) -> None:
    base, _token = server
    api = Features(f"{base}/ogc/")
    assert set(api.feature_collections()) == set(PUBLIC)
    frame = source("stbhhx")
    box = inner_box(frame)
    body = api.collection_items("stbhhx", bbox=list(box), limit=1000)
    want = expected_ids(frame, box)
    assert body["numberMatched"] == len(want)
    assert {f["id"] for f in body["features"]} == want
    lat_lon = api.collection_items(
        "stbhhx",
        bbox=[box[1], box[0], box[3], box[2]],
        limit=1000,
        crs="http://www.opengis.net/def/crs/EPSG/0/4490",
        **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4490"},
    )
    assert {f["id"] for f in lat_lon["features"]} == want
    first = shapely.get_coordinates(shapely.geometry.shape(lat_lon["features"][0]["geometry"]))
    assert 28 < first[0][0] < 30 and 109 < first[0][1] < 112
