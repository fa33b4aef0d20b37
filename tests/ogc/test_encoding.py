"""The feature answers encoded by orjson (publish.ogc.encoding): the same JSON documents as
pygeoapi's own encoder gives, text in UTF-8, numpy numbers and NaN handled, pretty answers
left to pygeoapi."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
from pygeoapi.util import to_json

from publish.ogc.encoding import compact_json
from tests.server.helpers import TestClient


def test_the_same_document_as_pygeoapi_encodes() -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": np.int64(7),
                "geometry": {"type": "Point", "coordinates": [110.123456789012, 29.1]},
                "properties": {
                    "XZQMC": "永定区",
                    "MJ": np.float64(1.5e16),
                    "n": np.int32(3),
                    "d": date(2026, 12, 5),
                    "tiny": 5e-324,
                    "big": 2**63 - 1,
                },
            }
        ],
        "numberMatched": 1,
    }
    ours, theirs = compact_json(doc), to_json(doc)
    assert isinstance(ours, bytes)  # handed on as it is, never decoded and encoded again
    assert json.loads(ours) == json.loads(theirs)
    assert "永定区".encode() in ours and "\\u6c38" in theirs  # UTF-8 where json writes escapes
    assert json.loads(compact_json({"v": math.nan})) == {"v": None}  # never the invalid NaN
    assert compact_json(doc, pretty=True) == to_json(doc, True)


def test_items_answers_are_compact_utf8(client: TestClient) -> None:
    r = client.get("/ogc/collections/xzq_xian/items?limit=3&f=json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.content.decode("utf-8")
    doc = json.loads(body)
    assert doc["numberReturned"] == 3 and len(doc["features"]) == 3
    names = [f["properties"]["XZQMC"] for f in doc["features"]]
    assert all(name and name in body for name in names)  # written as UTF-8, not \\u escapes
    assert "\n" not in body
