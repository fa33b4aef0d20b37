"""Property tests (Hypothesis): whatever a client sends in a tile path, a bbox, an
Accept-Language header or a site-check body, the server never answers 5xx (issue 16)."""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.helpers import TestClient

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
PATH_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + "-_.~%+!$&'()*,;=:@", max_size=24
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "", " ", "0x10", "1_000", "１"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
INPUT_KEYS = ["geometry", "buffer_m", "crs", "intended_use", "surroundings_m"]


@BOUNDED
@given(
    audience=st.sampled_from(["public", "internal", "x", ""]),
    z=PATH_TEXT,
    x=PATH_TEXT,
    name=PATH_TEXT,
)
def test_tile_paths_never_5xx(client: TestClient, audience: str, z: str, x: str, name: str) -> None:
    r = client.get(f"/tiles/{audience}/{z}/{x}/{name}")
    assert r.status_code < 500, r.text


@BOUNDED
@given(
    z=st.integers(min_value=-1, max_value=40),
    x=st.integers(min_value=-1, max_value=2**41),
    y=st.integers(min_value=-1, max_value=2**41),
    ext=st.sampled_from(["mvt", "pbf", "png", "", "MVT"]),
)
def test_numeric_tile_paths_never_5xx(client: TestClient, z: int, x: int, y: int, ext: str) -> None:
    for prefix in (
        "/tiles/public",
        "/raster/public",
        "/ogc/collections/stbhhx/tiles/WebMercatorQuad",
    ):
        r = client.get(f"{prefix}/{z}/{x}/{y}.{ext}")
        assert r.status_code < 500, (prefix, r.text)


@BOUNDED
@given(st.one_of(st.lists(NUMBERS, min_size=0, max_size=7).map(",".join), HEADER_TEXT))
def test_bbox_strings_never_5xx(client: TestClient, bbox: str) -> None:
    for crs in ("", "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4490"):
        r = client.get(f"/ogc/collections/stbhhx/items?limit=2{crs}", params={"bbox": bbox})
        assert r.status_code < 500, (bbox, crs, r.text)


@BOUNDED
@given(HEADER_TEXT, st.one_of(st.none(), HEADER_TEXT))
def test_any_accept_language_is_answered(client: TestClient, accept: str, lang: str | None) -> None:
    params = {"f": "json"} if lang is None else {"f": "json", "lang": lang}
    for path in ("/ogc/", "/ogc/collections/stbhhx", "/ogc/collections/stbhhx/items"):
        r = client.get(path, params=params, headers={"Accept-Language": accept})
        assert r.status_code == 200, (path, accept, lang, r.text[:200])


@BOUNDED
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries({"inputs": st.dictionaries(st.sampled_from(INPUT_KEYS), JSON)}),
        st.fixed_dictionaries(
            {
                "inputs": st.fixed_dictionaries(
                    {
                        "geometry": st.fixed_dictionaries(
                            {
                                "type": st.sampled_from(["Point", "Polygon", "MultiPolygon", "x"]),
                                "coordinates": JSON,
                            }
                        ),
                        "buffer_m": JSON,
                    }
                )
            }
        ),
    )
)
def test_site_check_bodies_never_5xx(client: TestClient, body: Any) -> None:
    r = client.post(
        "/ogc/processes/site-check/execution",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code < 500, (body, r.text[:300])


@BOUNDED
@given(st.binary(max_size=200))
def test_site_check_raw_bytes_never_5xx(client: TestClient, body: bytes) -> None:
    r = client.post(
        "/ogc/processes/site-check/execution",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code < 500, (body, r.text[:300])
