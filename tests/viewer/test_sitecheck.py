"""The site check in the viewer (issue 6, part 2): draw a site on the map, read the verdict, print
the report on one A4 page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from pyproj import Transformer

from tests.viewer.browser import Server, open_map, save_screenshot, wait_idle
from tests.viewer.data import centre_view, union_of

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult


def _project(page: Any, lng: float, lat: float) -> tuple[float, float]:
    x, y = page.evaluate(
        "([lng, lat]) => { const p = window.onemap.map.project([lng, lat]); return [p.x, p.y]; }",
        [lng, lat],
    )
    return float(x), float(y)


def test_draw_a_site_inside_the_red_line_and_read_the_verdict(
    viewer_server: Server, new_page: Any, full_release: BuildResult, shots: Path
) -> None:
    release = full_release.path
    view = centre_view(release, zoom=14)
    page = new_page()
    open_map(
        page,
        f"{viewer_server.base}/#map={view.zoom}/{view.lat}/{view.lng}&layers=ydyh,stbhhx,czkfbj",
    )
    # a square well inside the red line, in view (right of the side panel)
    west, north = page.evaluate("window.onemap.map.unproject([360, 20]).toArray()")
    east, south = page.evaluate("window.onemap.map.unproject([1260, 780]).toArray()")
    red = union_of(release, "stbhhx", shapely.box(west, south, east, north))
    inside = red.intersection(shapely.box(west, south, east, north))
    circle = shapely.maximum_inscribed_circle(inside)
    centre = shapely.get_point(circle, 0)
    half = 0.5 * circle.length  # the circle's radius is the line's length; stay well inside
    assert half > 0.0005
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    square = [(centre.x + dx * half, centre.y + dy * half) for dx, dy in corners]

    page.locator('#tabs button[data-tab="check"]').click()
    page.locator('button[data-mode="polygon"]').click()
    for lng, lat in square:
        x, y = _project(page, lng, lat)
        page.mouse.click(x, y)
    page.locator("#site-finish").click()
    page.locator("#site-run").click()
    verdict = page.locator("#site-verdict")
    verdict.wait_for()
    assert verdict.get_attribute("data-verdict") == "prohibited"
    assert verdict.inner_text() == "禁止"
    assert page.locator('#site-report .reasons li[data-code="red_line_overlap"]').count() == 1
    red_row = page.locator('#site-lines tr[data-role="red_line"] td').all_inner_texts()
    assert red_row[2] == "100.0%"

    # the area the server reports is the drawn polygon's (EPSG:4546), to 0.1 %
    vertices = page.evaluate("window.onemap.site.vertices")
    to_4546 = Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True)
    drawn = shapely.Polygon([to_4546.transform(x, y) for x, y in vertices])
    shown = page.locator("#site-report p").filter(has_text="m²").first.inner_text()
    m2 = float(re.search(r"([\d,.]+) m²", shown)[1].replace(",", ""))  # type: ignore[index]
    assert abs(m2 - drawn.area) <= 0.001 * drawn.area + 0.1

    # the site and the red-line features it touches are on the map
    assert page.evaluate("window.onemap.map.getLayer('onemap-site-touched-stbhhx') != null")
    wait_idle(page)
    save_screenshot(page.screenshot(), "viewer-sitecheck.png", shots)

    # the report prints on one A4 page, with a picture of the map
    page.evaluate("window.onemap.site.snapshot()")
    page.wait_for_function("() => document.querySelector('.report-map').naturalWidth > 100")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    assert re.search(rb"/Subtype\s*/Image", pdf)  # the map's picture
    (shots / "site-report.pdf").write_bytes(pdf)


def test_a_point_with_a_radius_in_the_urban_area(
    viewer_server: Server, new_page: Any, full_release: BuildResult
) -> None:
    release = full_release.path
    page = new_page()
    open_map(page, f"{viewer_server.base}/#map=14/29.129/110.48&layers=ydyh,czkfbj")
    urban = union_of(release, "czkfbj", shapely.box(110.47, 29.12, 110.49, 29.14))
    assert urban.contains(shapely.Point(110.48, 29.129))  # the city seat
    page.locator('#tabs button[data-tab="check"]').click()
    page.locator('button[data-mode="point"]').click()
    page.locator("#site-radius").fill("150")
    page.locator("#site-radius").dispatch_event("change")
    page.locator("#site-use").fill("0701")
    page.locator("#site-use").dispatch_event("change")
    x, y = _project(page, 110.48, 29.129)
    page.mouse.click(x, y)
    page.locator("#site-run").click()
    verdict = page.locator("#site-verdict")
    verdict.wait_for()
    assert verdict.get_attribute("data-verdict") in ("review", "conforming")
    urban_row = page.locator('#site-lines tr[data-role="urban_boundary"] td').all_inner_texts()
    assert urban_row[2] == "100.0%"
    # English
    page.locator("#lang").click()
    assert page.locator("#site-verdict").inner_text() in ("Review", "Conforming")
