"""Parsing an items request's filter (publish.ogc.cql): parsed filters kept by text and language,
the filter CRS still checked on every request, errors raised again, long filters not kept."""

from __future__ import annotations

import pytest

from publish.crs.names import CRS84_URI
from publish.ogc.cql import KEPT_FILTER_CHARS, FilterError, parse_filter

CITY = "http://www.opengis.net/def/crs/EPSG/0/4546"


def test_a_filter_sent_again_is_not_parsed_again() -> None:
    text = "DLBM LIKE '01%' AND MJ > 5000"
    first = parse_filter(text)
    again = parse_filter(text, "cql2-text", CITY, [CITY])
    assert again.node is first.node
    assert (first.crs, again.crs) == (CRS84_URI, CITY)  # the CRS is the request's own
    assert parse_filter(text, "cql-text").node is first.node  # the draft's name: the same language


def test_the_languages_are_kept_apart() -> None:
    as_text = parse_filter('"MJ" > 5')
    as_json = parse_filter('{"op": ">", "args": [{"property": "MJ"}, 5]}', "cql2-json")
    assert as_json.node is not as_text.node
    assert repr(as_json.node) == repr(as_text.node)


def test_a_kept_filter_still_needs_an_offered_crs() -> None:
    text = "MJ < 100"
    parse_filter(text, crs=CITY, offered=[CITY])
    with pytest.raises(FilterError, match="filter-crs"):
        parse_filter(text, crs=CITY, offered=[])


def test_a_bad_filter_is_refused_every_time() -> None:
    messages = []
    for _ in range(2):
        with pytest.raises(FilterError) as caught:
            parse_filter("MJ > > 5")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "unexpected" in messages[0] and "column" in messages[0]


def test_a_long_filter_is_parsed_on_every_request() -> None:
    codes = ", ".join(f"'{n:04d}'" for n in range(KEPT_FILTER_CHARS // 8 + 1))
    text = f"DLBM IN ({codes})"
    assert len(text) > KEPT_FILTER_CHARS
    first, again = parse_filter(text), parse_filter(text)
    assert again.node is not first.node
    assert repr(again.node) == repr(first.node)
