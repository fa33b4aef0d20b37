"""The dashboard in Chromium against a real server on three releases of the sample: cards,
the county table and the chart canvases drawn (read in the pixels), the county map drawn from
the release's own tiles, the year and language switches, the downloads, the phone layout, the
staff page behind its token, a release without monitoring — no request to another host, no
page error, nothing the Content-Security-Policy blocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from support.browser import (
    DASHBOARD_MAP_IDLE,
    DASHBOARD_MAP_LOADED,
    DASHBOARD_MAP_REPAINTED,
    DASHBOARD_READY,
    MAP_READY,
)
from tests.dashboard.conftest import INTERNAL_INDICATOR, Releases
from tests.viewer.browser import Server, colour_mask, pixels, save_screenshot, serve

pytestmark = pytest.mark.slow

READY, MAP_IDLE, MAP_LOADED = DASHBOARD_READY, DASHBOARD_MAP_IDLE, DASHBOARD_MAP_LOADED
STATUS_COLOURS = {"ok": "#2e7d32", "warning": "#f9a825", "breach": "#c62828", None: "#9e9e9e"}
KIND_COLOURS = ("#c62828", "#ef6c00", "#6a1b9a", "#1565c0", "#00838f", "#558b2f")  # its series


class Watch:
    """A page's requests and errors, recorded from its first navigation."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.context.on("request", lambda r: self.urls.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def assert_clean(self, page: Any, base: str) -> None:
        foreign = [u for u in self.urls if not u.startswith((base + "/", "data:", "blob:"))]
        assert foreign == []
        assert self.errors == []
        assert page.evaluate("window.__cspViolations || []") == []


def _open(page: Any, url: str) -> Watch:
    watch = Watch(page)
    page.goto(url)
    page.wait_for_function(READY)
    return watch


def _public(server: Server) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(server.base + "/indicators/public.json").json()
    return doc


def _status(monitoring: dict[str, Any], indicator: str, code: str, year: int) -> str | None:
    result = next(
        r for r in monitoring["results"] if r["indicator"] == indicator and r["code"] == code
    )
    return next((t["status"] for t in result["targets"] if t["year"] == year), None)


def test_cards_table_and_charts_are_drawn(
    dashboard_server: Server, new_page: Any, shots: Path
) -> None:
    page = new_page(1280, 800)
    watch = _open(page, dashboard_server.base + "/dashboard")
    monitoring = _public(dashboard_server)["monitoring"]
    city = monitoring["scopes"][0]["code"]
    year = min(y for y in monitoring["target_years"] if y >= monitoring["year"])
    # the map waits below the first view: nothing is fetched for it yet (screenshots of
    # elements below scroll the page, so this is looked at first)
    assert not [u for u in watch.urls if "/tiles/" in u or "maplibre-gl-worker" in u]
    # a card per indicator, coloured by the city's status for the year the statuses stand for
    cards = page.locator(".card")
    assert cards.count() == len(monitoring["indicators"])
    for i, indicator in enumerate(monitoring["indicators"]):
        card = cards.nth(i)
        assert card.get_attribute("data-indicator") == indicator["id"]
        status = _status(monitoring, indicator["id"], city, year)
        assert f"status-{status or 'none'}" in (card.get_attribute("class") or "")
        assert f"{year}" in card.locator(".card-target").inner_text()
        assert card.locator(".delta").inner_text().split()[-1][0] in "+−0"
    # the county table: a row per county (and the city), a status per indicator × county
    counties = [s for s in monitoring["scopes"] if s["scope"] == "county"]
    assert page.locator("#county-table tbody tr").count() == len(counties) + 1
    statuses = page.locator("#county-table td.cell").evaluate_all(
        "cells => cells.map(c => [c.closest('tr').dataset.code, c.dataset.indicator, c.dataset.status])"
    )
    for code, indicator, status in statuses:
        assert status == (_status(monitoring, indicator, code, year) or "")
    assert {"ok", "warning", "breach"} <= {s for *_, s in statuses}
    # each trend chart draws its line in the status colour: pixels, not only a canvas
    png = page.screenshot(full_page=True)
    save_screenshot(png, "dashboard.png", shots)
    charts = page.locator(".trend")
    assert charts.count() == len(monitoring["indicators"])
    for i, indicator in enumerate(monitoring["indicators"]):
        chart = charts.nth(i)
        assert chart.locator("canvas").count() == 1
        image = pixels(chart.locator(".trend-chart").screenshot())
        colour = STATUS_COLOURS[_status(monitoring, indicator["id"], city, year)]
        assert colour_mask(image, colour, 6).sum() > 150, indicator["id"]
    # the conflict chart: a bar series per kind, in its colour where its county areas show
    conflicts = _public(dashboard_server)["conflicts"]
    image = pixels(page.locator("#conflict-chart").screenshot())
    largest = max(a["area_ha"] for a in conflicts["areas"] if a["scope"] == "county")
    for kind, colour in zip(conflicts["kinds"], KIND_COLOURS, strict=False):
        biggest = max(
            a["area_ha"]
            for a in conflicts["areas"]
            if a["kind"] == kind["id"] and a["scope"] == "county"
        )
        if biggest > 0.2 * largest:
            assert colour_mask(image, colour, 6).sum() > 200, kind["id"]
    # the conflict table: a row per kind, a cell per kind × unit holding the document's area
    assert page.locator("#conflict-table tbody tr").count() == len(conflicts["kinds"])
    cells = page.locator("#conflict-table td").evaluate_all(
        "tds => tds.map(td => [td.dataset.kind, td.dataset.code, Number(td.dataset.ha)])"
    )
    assert sorted(map(tuple, cells)) == sorted(
        (a["kind"], a["code"], a["area_ha"]) for a in conflicts["areas"]
    )
    watch.assert_clean(page, dashboard_server.base)


def test_the_county_map_colours_the_counties(dashboard_server: Server, new_page: Any) -> None:
    page = new_page(1280, 800)
    watch = _open(page, dashboard_server.base + "/dashboard")
    page.locator("#county-map").scroll_into_view_if_needed()
    page.wait_for_function(MAP_LOADED)
    page.evaluate(MAP_IDLE)
    counties = page.locator("#map-legend li")
    assert counties.count() == 4
    # by status: the indicator whose counties fall in most statuses (the sample's farmland has a
    # county in warning, its cultivated land one in breach)
    monitoring = _public(dashboard_server)["monitoring"]
    year = min(y for y in monitoring["target_years"] if y >= monitoring["year"])
    codes = [s["code"] for s in monitoring["scopes"] if s["scope"] == "county"]
    varied = max(
        (i["id"] for i in monitoring["indicators"]),
        key=lambda i: len({_status(monitoring, i, code, year) for code in codes}),
    )
    for mode in ("value", "status"):
        if mode == "status":
            page.select_option("#map-indicator", varied)
            page.select_option("#map-mode", "status")
            page.evaluate(DASHBOARD_MAP_REPAINTED)
        colours = set(counties.evaluate_all("items => items.map(i => i.dataset.colour)"))
        assert len(colours) >= (4 if mode == "value" else 2)
        # every county's colour is drawn, over a good part of the map (a data-driven colour is
        # redrawn once the tiles' buckets are re-evaluated: the map can report idle before it)
        for _ in range(40):
            image = pixels(page.locator("#county-map").screenshot())
            drawn = {c: int(colour_mask(image, c, 4).sum()) for c in colours}
            if min(drawn.values()) > 2_000:
                break
            page.wait_for_timeout(250)
        assert min(drawn.values()) > 2_000, (mode, drawn)
    # the release's own tiles, only the low zooms the county outlines need
    tiles = [u for u in watch.urls if "/tiles/public/" in u]
    assert tiles and all(int(u.split("/tiles/public/")[1].split("/")[0]) <= 5 for u in tiles)
    watch.assert_clean(page, dashboard_server.base)


def test_year_and_language_switch(dashboard_server: Server, new_page: Any) -> None:
    page = new_page(1280, 800)
    watch = _open(page, dashboard_server.base + "/dashboard")
    assert page.locator("#title").inner_text() == "规划实施监测"
    page.select_option("#year", "2035")
    assert all("2035" in t for t in page.locator(".card-target").all_inner_texts())
    assert page.locator("#csv").get_attribute("href") == "/indicators/public.csv?year=2035"
    page.click("#lang")
    assert page.locator("#title").inner_text() == "Plan implementation monitoring"
    names = page.locator(".card-name").all_inner_texts()
    assert names[0] == "Ecological protection red line area"
    assert page.locator("#map-link").get_attribute("href") == "/"
    # the address keeps the view: a reload opens it as it was
    assert page.url.endswith("/dashboard?year=2035&lang=en")
    page.reload()
    page.wait_for_function(READY)
    assert page.locator("#title").inner_text() == "Plan implementation monitoring"
    assert page.locator("#year").input_value() == "2035"
    watch.assert_clean(page, dashboard_server.base)


def test_the_print_layout_fits_a4(dashboard_server: Server, new_page: Any) -> None:
    page = new_page(703, 1000)  # A4's width less the 12 mm margins, at 96 dpi
    watch = _open(page, dashboard_server.base + "/dashboard")
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.scrollWidth") <= 703
    for hidden in ("#map-panel", "#year", "#csv", "#print"):
        assert not page.locator(hidden).is_visible(), hidden
    for shown in (".card", "#county-table", ".trend canvas", "#conflict-chart canvas"):
        assert page.locator(shown).first.is_visible(), shown
    # three cards a row
    tops = [round(c.bounding_box()["y"]) for c in page.locator(".card").all()[:3]]
    assert len(set(tops)) == 1
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    watch.assert_clean(page, dashboard_server.base)


def test_the_download_is_the_table(dashboard_server: Server, new_page: Any) -> None:
    page = new_page(1280, 800)
    _open(page, dashboard_server.base + "/dashboard")
    with page.expect_download() as download:
        page.click("#csv")
    body = Path(download.value.path()).read_bytes()
    assert body == httpx.get(dashboard_server.base + "/indicators/public.csv?year=2025").content


def test_the_phone_layout_has_no_horizontal_overflow(
    dashboard_server: Server, new_page: Any, shots: Path
) -> None:
    page = new_page(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    watch = _open(page, dashboard_server.base + "/dashboard")
    page.locator("#county-map").scroll_into_view_if_needed()
    page.wait_for_function(MAP_LOADED)
    page.evaluate(MAP_IDLE)
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 390
    boxes = page.locator(".card, .panel, .trend").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
    )
    assert boxes and all(left >= 0 and right <= 390 for left, right in boxes)
    # one column: the cards are stacked
    lefts = {round(box["x"]) for box in (c.bounding_box() for c in page.locator(".card").all())}
    assert len(lefts) == 1
    save_screenshot(page.screenshot(full_page=True), "dashboard-phone.png", shots)
    watch.assert_clean(page, dashboard_server.base)


def test_the_staff_dashboard_asks_for_the_token(dashboard_server: Server, new_page: Any) -> None:
    page = new_page(1280, 800)
    watch = Watch(page)
    page.goto(dashboard_server.base + "/internal/dashboard")
    page.locator("#login-token").fill(dashboard_server.token)
    page.locator("#login-form button").click()
    page.wait_for_function(READY)
    ids = page.locator(".card").evaluate_all("cs => cs.map(c => c.dataset.indicator)")
    assert INTERNAL_INDICATOR in ids  # the internal-only indicator
    assert page.locator("#title").inner_text() == "规划实施监测（内部版）"
    assert page.locator("#map-link").get_attribute("href") == "/internal/"
    # to the staff map and back: the token kept for the session, the viewer links here
    page.click("#map-link")
    page.wait_for_function(MAP_READY)
    address, _, view = page.url.partition("#")
    assert address == dashboard_server.base + "/internal/"
    assert "spxm" in view  # the staff map, with the session's token: its internal layer shown
    assert page.locator("#dashboard-link").get_attribute("href") == "/internal/dashboard"
    page.click("#dashboard-link")
    page.wait_for_function(READY)
    assert INTERNAL_INDICATOR in page.locator(".card").evaluate_all(
        "cs => cs.map(c => c.dataset.indicator)"
    )
    watch.assert_clean(page, dashboard_server.base)


def test_the_viewer_links_to_the_dashboard(dashboard_server: Server) -> None:
    page = httpx.get(dashboard_server.base + "/").text
    assert 'id="dashboard-link" href="/dashboard"' in page


def test_a_release_without_monitoring_says_so(
    releases: Releases, new_page: Any, tmp_path: Path
) -> None:
    with serve(releases.bare, releases.tokens, releases.token, tmp_path / "log") as server:
        page = new_page(1280, 800)
        watch = Watch(page)
        page.goto(server.base + "/dashboard")
        page.wait_for_function("() => window.onemapDashboard && !window.onemapDashboard.ready")
        assert page.locator(".fatal").inner_text() == "当前版本没有指标监测数据"
        assert [e for e in watch.errors] == []
