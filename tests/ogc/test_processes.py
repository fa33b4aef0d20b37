"""The site check as an OGC API process, executed synchronously through the server."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pytest
import shapely
from starlette.testclient import TestClient

EXECUTE = "/ogc/processes/site-check/execution"


def _square(geom: shapely.Geometry, half_deg: float = 0.002) -> dict:
    p = geom.representative_point()
    return shapely.geometry.mapping(
        shapely.box(p.x - half_deg, p.y - half_deg, p.x + half_deg, p.y + half_deg)
    )


def test_processes_listed(client: TestClient) -> None:
    listed = client.get("/ogc/processes", params={"f": "json"})
    assert listed.status_code == 200
    assert "site-check" in [p["id"] for p in listed.json()["processes"]]
    described = client.get("/ogc/processes/site-check", params={"f": "json"})
    assert described.status_code == 200 and described.json()["id"] == "site-check"


def test_a_site_in_the_red_line_is_prohibited(
    client: TestClient, source: Callable[[str], gpd.GeoDataFrame]
) -> None:
    red = source("stbhhx")
    big = red.geometry.iloc[int(red.to_crs(4546).area.argmax())]
    r = client.post(EXECUTE, json={"inputs": {"geometry": _square(big, 0.0005)}})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["verdict"] == "prohibited"
    assert report["control_lines"]["red_line"]["overlap_m2"] > 1.0
    assert "spxm" not in r.text


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"geometry": "not json"}, "GeoJSON"),
        ({"geometry": {"type": "LineString", "coordinates": [[110.4, 29.1], [110.5, 29.2]]}}, "type"),
        ({"geometry": {"type": "Point", "coordinates": [110.4, 29.1]}, "buffer_m": 100,
          "crs": "EPSG:9999999"}, "CRS"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_problem(
    client: TestClient, inputs: dict, problem: str
) -> None:
    r = client.post(EXECUTE, json={"inputs": inputs})
    assert r.status_code == 400, r.text
    assert problem.lower() in r.text.lower()


def test_not_json_body_and_internal_process_needs_token(client: TestClient) -> None:
    r = client.post(EXECUTE, content=b"{not json", headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    r = client.post("/internal" + EXECUTE, json={"inputs": {}})
    assert r.status_code == 401
    assert client.get("/ogc/processes/site-check/execution").status_code == 405
