"""Administrative names drawn once per area (issue 14): at the city view each county's name is
one rendered label, from the `labels` layer's point, where polygon labels named a county once
per tile piece (桑植县 twice, 慈利县 three times)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.viewer.browser import Server, open_map
from tests.viewer.data import read_layer

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

COUNTIES = "xzq_xian-label"  # the style's county label layer (publish.styles.document)
RENDERED_NAMES = """(layer) => window.onemap.map.queryRenderedFeatures({ layers: [layer] })
  .map((f) => [f.properties.name, f.sourceLayer, f.properties.layer])"""


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_each_county_is_named_once_at_the_city_view(
    viewer_server: Server, new_page: Any, full_release: BuildResult, size: tuple[int, int]
) -> None:
    page = new_page(*size)
    open_map(page, viewer_server.base + "/")  # the city view: the map fits the city's bounds
    assert 6 <= page.evaluate("window.onemap.map.getZoom()") < 11  # the county labels' zooms
    rendered = page.evaluate(RENDERED_NAMES, COUNTIES)
    assert {(source, layer) for _, source, layer in rendered} == {("labels", "xzq_xian")}
    counties = read_layer(full_release.path, "xzq_xian")["XZQMC"]
    assert Counter(name for name, _, _ in rendered) == Counter(set(counties))
    assert len(set(counties)) == 4


def test_township_names_come_once_each_from_their_points(
    viewer_server: Server, new_page: Any, full_release: BuildResult
) -> None:
    page = new_page()
    open_map(page, viewer_server.base + "/#map=10/29.13/110.48")
    rendered = page.evaluate(RENDERED_NAMES, "xzq_xiang-label")
    names = Counter(name for name, _, _ in rendered)
    assert names and max(names.values()) == 1
    assert set(names) <= set(read_layer(full_release.path, "xzq_xiang")["XZQMC"])
