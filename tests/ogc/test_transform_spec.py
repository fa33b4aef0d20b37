"""pygeoapi's CRS transform specs made once (publish.ogc.transform_spec): the same answers and
refusals as pygeoapi's own, each kept after the first."""

from __future__ import annotations

import pytest
from pygeoapi.api.itemtypes import create_crs_transform_spec as pygeoapis
from pyproj.exceptions import CRSError

from publish.ogc.transform_spec import _cached

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def provider(**options: object) -> dict[str, object]:
    return {"name": "p", "crs": [CRS84, f"{EPSG}4326", f"{EPSG}4490", f"{EPSG}4546"], **options}


@pytest.mark.parametrize("query", [None, CRS84, f"{EPSG}4326", f"{EPSG}4490", f"{EPSG}4546"])
@pytest.mark.parametrize("storage", [{}, {"storage_crs": CRS84}, {"storage_crs": f"{EPSG}4490"}])
def test_the_same_spec_as_pygeoapi_and_kept(query: str | None, storage: dict[str, str]) -> None:
    cached = _cached(pygeoapis)
    first = cached(provider(**storage), query)
    assert first == pygeoapis(provider(**storage), query)
    assert cached(provider(**storage), query) is first  # made once


def test_refusals_are_pygeoapis_and_not_kept() -> None:
    cached = _cached(pygeoapis)
    for _ in range(2):
        with pytest.raises(ValueError, match="not supported"):
            cached(provider(), f"{EPSG}3857")
    unknown = {"crs": ["http://www.opengis.net/def/crs/EPSG/0/999999", CRS84]}
    for _ in range(2):
        with pytest.raises(CRSError):
            cached(dict(unknown), "http://www.opengis.net/def/crs/EPSG/0/999999")


def test_a_list_without_the_default_gets_it_as_in_pygeoapi() -> None:
    ours, theirs = {"crs": [f"{EPSG}4490"]}, {"crs": [f"{EPSG}4490"]}
    assert _cached(pygeoapis)(ours, None) == pygeoapis(theirs, None)
    assert ours == theirs  # the default CRS added to the provider's list, as pygeoapi does
