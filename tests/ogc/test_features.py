"""OGC API Features over HTTP (TestClient) against the session's release, checked against the
sample's source layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from tests.ogc.conftest import PUBLIC
from tests.server.helpers import Built, TestClient

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
Source = Callable[[str], gpd.GeoDataFrame]


def items(client: TestClient, layer: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"/ogc/collections/{layer}/items", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def inner_box(frame: gpd.GeoDataFrame, share: float = 0.4) -> tuple[float, float, float, float]:
    """A box in the middle of the layer's extent, `share` of its width and height."""
    x0, y0, x1, y1 = frame.total_bounds
    dx, dy = (x1 - x0) * share / 2, (y1 - y0) * share / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - dx, cy - dy, cx + dx, cy + dy


def expected_ids(frame: gpd.GeoDataFrame, box: tuple[float, float, float, float]) -> set[int]:
    hit = shapely.intersects(frame.geometry.values, shapely.box(*box))
    return {int(i) for i in frame.index[hit]}


def same_vertices(a: shapely.Geometry, b: shapely.Geometry, tolerance: float) -> bool:
    """The same vertices in the same order (a Polygon and its one-part MultiPolygon agree)."""
    ca, cb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    return ca.shape == cb.shape and bool(np.allclose(ca, cb, rtol=0, atol=tolerance))


def test_landing_page_and_redirect(client: TestClient) -> None:
    r = client.get("/ogc", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "http://testserver/ogc/"
    r = client.get("/ogc/")
    assert r.status_code == 200
    body = r.json()
    assert "张家界" in body["title"]
    hrefs = {link["rel"]: link["href"] for link in body["links"]}
    assert hrefs["data"] == "http://testserver/ogc/collections"
    assert hrefs["service-desc"] == "http://testserver/ogc/openapi"
    assert r.headers["cache-control"] == "public, no-cache"
    assert r.headers["x-onemap-release"]
    assert client.get("/ogc/", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    html = client.get("/ogc/?f=html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "charset=utf-8" in html.headers["content-type"]
    assert "http://testserver/ogc/static/css/default.css" in html.text
    assert client.get("/ogc/static/css/default.css").status_code == 200
    conformance = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    assert client.get("/ogc/conformance").json()["conformsTo"] == conformance


def test_collections_are_the_audiences_layers(
    client: TestClient, auth: dict[str, str], built_releases: Built
) -> None:
    public = client.get("/ogc/collections")
    assert public.status_code == 200
    assert {c["id"] for c in public.json()["collections"]} == set(PUBLIC)
    assert "spxm" not in public.text
    assert client.get("/internal/ogc/collections").status_code == 401
    internal = client.get("/internal/ogc/collections", headers=auth)
    assert internal.status_code == 200
    assert {c["id"] for c in internal.json()["collections"]} == {*PUBLIC, "spxm"}
    assert internal.headers["cache-control"] == "private, no-cache"
    one = client.get("/ogc/collections/stbhhx").json()
    assert one["title"] == "生态保护红线"
    assert f"{EPSG}4490" in one["crs"] and f"{EPSG}4546" in one["crs"]
    assert one["storageCrs"] == CRS84


@pytest.mark.parametrize("layer", ["stbhhx", "hl"])
def test_bbox_number_matched_is_exact(client: TestClient, source: Source, layer: str) -> None:
    frame = source(layer)
    box = inner_box(frame)
    want = expected_ids(frame, box)
    assert 3 <= len(want) < len(frame)
    bbox = ",".join(map(str, box))
    first = items(client, layer, bbox=bbox, limit=2)
    assert first["numberMatched"] == len(want)
    assert first["numberReturned"] == len(first["features"]) == 2
    assert any(link["rel"] == "next" for link in first["links"])
    got: list[int] = []
    offset = 0
    while offset < len(want):
        page = items(client, layer, bbox=bbox, limit=2, offset=offset)
        got += [f["id"] for f in page["features"]]
        offset += 2
    assert len(got) == len(set(got)) and set(got) == want


def test_single_item_has_the_source_attributes(client: TestClient, source: Source) -> None:
    frame = source("stbhhx")
    fid = int(frame.index[len(frame) // 2])
    r = client.get(f"/ogc/collections/stbhhx/items/{fid}")
    assert r.status_code == 200
    feature = r.json()
    assert feature["id"] == fid
    row = frame.loc[fid]
    for name in ("BSM", "HXMC", "XZQMC"):
        assert feature["properties"][name] == row[name]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in feature["properties"]["HXMC"])
    assert feature["properties"]["area_m2"] > 0
    geom = shapely.geometry.shape(feature["geometry"])
    assert same_vertices(geom, row.geometry, 1e-9)
    for missing in ("999999", "abc", "-1"):
        assert client.get(f"/ogc/collections/stbhhx/items/{missing}").status_code == 404


def test_properties_filter_and_sortby(client: TestClient, source: Source) -> None:
    frame = source("stbhhx")
    code = frame["XZQDM"].value_counts().index[0]
    body = items(client, "stbhhx", XZQDM=code, limit=1000, sortby="-MJ")
    assert body["numberMatched"] == int((frame["XZQDM"] == code).sum())
    assert {f["properties"]["XZQDM"] for f in body["features"]} == {code}
    areas = [f["properties"]["MJ"] for f in body["features"]]
    assert areas == sorted(areas, reverse=True)
    box = inner_box(frame, 0.6)
    both = items(client, "stbhhx", XZQDM=code, bbox=",".join(map(str, box)), limit=1)
    sub = frame[frame["XZQDM"] == code]
    assert both["numberMatched"] == len(expected_ids(sub, box))
    picked = items(client, "stbhhx", properties="HXMC,MJ", skipGeometry="true", limit=3)
    assert all(set(f["properties"]) == {"HXMC", "MJ"} for f in picked["features"])
    assert all(f["geometry"] is None for f in picked["features"])
    hits = items(client, "stbhhx", resulttype="hits")
    assert hits["numberMatched"] == len(frame) and hits["features"] == []
    assert client.get("/ogc/collections/stbhhx/items?sortby=nothing").status_code == 400
    assert client.get("/ogc/collections/stbhhx/items?limit=0").status_code == 400


def test_limit_has_a_maximum(client: TestClient, source: Source) -> None:
    body = items(client, "hl", limit=10**9)
    assert body["numberReturned"] == min(len(source("hl")), 10_000)


def test_output_crs_4490_is_lat_lon(client: TestClient) -> None:
    plain = items(client, "stbhhx", limit=1)
    r = client.get("/ogc/collections/stbhhx/items", params={"limit": 1, "crs": f"{EPSG}4490"})
    assert r.status_code == 200
    assert r.headers["content-crs"] == f"<{EPSG}4490>"
    lonlat = shapely.get_coordinates(shapely.geometry.shape(plain["features"][0]["geometry"]))
    latlon = shapely.get_coordinates(shapely.geometry.shape(r.json()["features"][0]["geometry"]))
    assert latlon == pytest.approx(lonlat[:, ::-1], abs=1e-7)
    one = client.get("/ogc/collections/stbhhx/items/1", params={"crs": f"{EPSG}4490"}).json()
    first = shapely.get_coordinates(shapely.geometry.shape(one["geometry"]))[0]
    assert 28 < first[0] < 30 and 109 < first[1] < 112
    bad = client.get("/ogc/collections/stbhhx/items", params={"crs": f"{EPSG}3857"})
    assert bad.status_code == 400


def test_output_crs_4546_is_northing_easting(client: TestClient, source: Source) -> None:
    r = client.get("/ogc/collections/hl/items/1", params={"crs": f"{EPSG}4546"})
    assert r.status_code == 200
    got = shapely.get_coordinates(shapely.geometry.shape(r.json()["geometry"]))
    want = shapely.get_coordinates(source("hl").to_crs(4546).geometry.loc[1])  # (east, north)
    assert got == pytest.approx(want[:, ::-1], abs=0.01)


def test_bbox_crs_4546(client: TestClient, source: Source) -> None:
    frame = source("stbhhx")
    x0, y0, x1, y1 = inner_box(frame)
    to_gk = Transformer.from_crs("OGC:CRS84", "EPSG:4546")  # out: northing, easting
    n0, e0 = to_gk.transform(x0, y0)
    n1, e1 = to_gk.transform(x1, y1)
    body = items(
        client, "stbhhx", bbox=f"{n0},{e0},{n1},{e1}", limit=1, **{"bbox-crs": f"{EPSG}4546"}
    )
    # pygeoapi turns the box's two corners back into CRS84 (its transform_bbox)
    back = Transformer.from_crs("EPSG:4546", "OGC:CRS84")
    bx0, by0 = back.transform(n0, e0)
    bx1, by1 = back.transform(n1, e1)
    assert body["numberMatched"] == len(expected_ids(frame, (bx0, by0, bx1, by1)))
    assert body["numberMatched"] == pytest.approx(len(expected_ids(frame, (x0, y0, x1, y1))), abs=2)
    lat_lon = items(client, "stbhhx", bbox=f"{y0},{x0},{y1},{x1}", **{"bbox-crs": f"{EPSG}4490"})
    assert lat_lon["numberMatched"] == len(expected_ids(frame, (x0, y0, x1, y1)))


def test_queryables_schema_and_openapi(client: TestClient, auth: dict[str, str]) -> None:
    q = client.get("/ogc/collections/stbhhx/queryables")
    assert q.status_code == 200
    props = q.json()["properties"]
    assert props["BSM"]["type"] == "integer" and props["MJ"]["type"] == "number"
    assert props["HXMC"]["type"] == "string"
    assert client.get("/ogc/collections/stbhhx/schema").status_code == 200
    doc = client.get("/ogc/openapi")
    assert doc.status_code == 200
    assert doc.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert "/collections/stbhhx/items" in doc.json()["paths"]
    assert "spxm" not in doc.text
    assert doc.json()["servers"][0]["url"] == "http://testserver/ogc"
    internal = client.get("/internal/ogc/openapi", headers=auth)
    assert "/collections/spxm/items" in internal.json()["paths"]
