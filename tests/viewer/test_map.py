"""The viewer in Chromium against a real server on the sample release (issue 5): the map reaches
idle, shows the national land-use colours and the red line where they are, answers a click,
finds a village, fits a phone, and keeps internal layers to the internal viewer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import shapely

from publish.standards import colour_for
from tests.viewer.browser import (
    Server,
    colour_mask,
    hex_rgb,
    open_map,
    pixels,
    save_screenshot,
    wait_idle,
)
from tests.viewer.data import centre_view, read_layer, union_of

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

RED_LINE = "#E60000"  # styles/control_lines.yml: the ecological red line's outline
PANEL_RIGHT = 340  # the desktop side panel covers x < 340 (330 px wide at 10 px)


def _view_url(server: Server, view: Any, layers: str, path: str = "/") -> str:
    return f"{server.base}{path}#map={view.zoom}/{view.lat}/{view.lng}&layers={layers}"


def _clip(page: Any) -> dict[str, float]:
    size = page.viewport_size
    return {
        "x": PANEL_RIGHT,
        "y": 0,
        "width": size["width"] - PANEL_RIGHT,
        "height": size["height"],
    }


def _clip_box(page: Any, clip: dict[str, float]) -> shapely.Polygon:
    """The clip's extent in degrees (the map's unprojection of its corners)."""
    corners = page.evaluate(
        """([x0, y0, x1, y1]) => [[x0, y1], [x1, y0]].map(p => window.onemap.map.unproject(p).toArray())""",
        [clip["x"], clip["y"], clip["x"] + clip["width"], clip["y"] + clip["height"]],
    )
    (west, south), (east, north) = corners
    return shapely.box(west, south, east, north)


def _project(page: Any, points: list[tuple[float, float]]) -> np.ndarray[Any, Any]:
    xy = page.evaluate(
        "pts => pts.map(p => { const q = window.onemap.map.project(p); return [q.x, q.y]; })",
        points,
    )
    return np.array(xy, dtype=float)


def test_map_reaches_idle_with_grouped_layers(viewer_server: Server, new_page: Any) -> None:
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_map(page, viewer_server.base + "/")
    assert errors == []
    groups = page.locator(".layer-group h3").all_inner_texts()
    assert groups[:6] == ["三区三线", "规划分区", "用地用海", "现状", "行政区", "村庄"]
    # each layer has a toggle and its legend swatch(es) from the style
    # the 12 public catalog layers and the conflicts (规划分析评价), off until ticked
    assert page.locator(".layer input[type=checkbox]").count() == 13
    assert not page.locator('input[data-layer="conflicts"]').is_checked()
    assert page.locator('.layer[data-layer="ghfq"] .legend li').count() == 10
    # the planning zones are the surface the style opens with; a tick switches surfaces
    assert page.locator('input[data-layer="ghfq"]').is_checked()
    page.locator('input[data-layer="ydyh"]').check()
    assert not page.locator('input[data-layer="ghfq"]').is_checked()
    visibility = page.evaluate(
        "['ydyh-fill', 'ghfq-fill'].map(id => window.onemap.map.getLayoutProperty(id, 'visibility'))"
    )
    assert visibility == ["visible", "none"]
    # the permalink follows: position and the visible layers
    assert "layers=" in page.url and "ydyh" in page.url.split("layers=")[1].split("&")[0]
    assert "ghfq" not in page.url.split("layers=")[1].split("&")[0]
    # scale bar and locate-me
    assert page.locator(".maplibregl-ctrl-scale").is_visible()
    assert page.locator(".maplibregl-ctrl-geolocate").count() == 1


def test_city_centre_shows_standard_land_use_colours_and_the_red_line(
    viewer_server: Server, new_page: Any, full_release: BuildResult
) -> None:
    release = full_release.path
    view = centre_view(release)
    page = new_page()
    open_map(page, _view_url(viewer_server, view, "ydyh,stbhhx"))
    clip = _clip(page)
    image = pixels(page.screenshot(clip=clip))
    box = _clip_box(page, clip)
    red = union_of(release, "stbhhx", box)

    # every class covering ≥ 1 % of the view outside the red line (whose tint changes the
    # colours under it) shows its national colour over at least half the area it covers
    ydyh = read_layer(release, "ydyh")
    ydyh = ydyh[ydyh.intersects(box)]
    plain = box.difference(red)
    share: dict[str, float] = {}
    for code, geom in zip(ydyh["YDYHFLDM"], ydyh.geometry, strict=True):
        colour = colour_for(str(code))
        assert colour is not None
        share[colour] = share.get(colour, 0.0) + geom.intersection(plain).area / box.area
    big = {c: s for c, s in share.items() if s >= 0.01}
    assert len(big) >= 3, share  # the view holds several classes
    total = image.shape[0] * image.shape[1]
    for colour, fraction in big.items():
        found = colour_mask(image, colour).sum() / total
        assert found >= 0.5 * fraction, (colour, fraction, found)

    # the red line's outline colour along the red line's outline
    outline = red.boundary.intersection(shapely.box(*box.buffer(-0.002).bounds))
    samples = [outline.interpolate(d) for d in np.linspace(0, outline.length, 60)]
    xy = _project(page, [(p.x, p.y) for p in samples]) - [clip["x"], clip["y"]]
    target = np.array(hex_rgb(RED_LINE), dtype=np.int16)
    hits = 0
    for x, y in xy:
        xi, yi = round(x), round(y)
        window = image[max(yi - 2, 0) : yi + 3, max(xi - 2, 0) : xi + 3].astype(np.int16)
        hits += bool(np.any(np.all(np.abs(window - target) <= 12, axis=-1)))
    assert hits >= 0.9 * len(samples), hits
    # and no red-line colour far from it: none in the land use away from the outline
    mask = colour_mask(image, RED_LINE, tolerance=12)
    assert mask.sum() < 0.05 * total


def test_click_on_a_parcel_opens_its_attributes(
    viewer_server: Server, new_page: Any, full_release: BuildResult, shots: Path
) -> None:
    release = full_release.path
    view = centre_view(release, zoom=14.5)
    layers = "ydyh,stbhhx,yjjbnt,czkfbj,xzq_xian,xzq_xiang,cun,hl,dl,zrbhd"
    page = new_page()
    open_map(page, _view_url(viewer_server, view, layers))
    box = _clip_box(page, _clip(page)).buffer(-0.003)
    ydyh = read_layer(release, "ydyh")
    inside = ydyh[ydyh.within(box)]
    fid = inside["MJ"].idxmax()  # the largest parcel fully in view
    parcel = inside.loc[fid]
    spot = parcel.geometry.point_on_surface()
    [[x, y]] = _project(page, [(spot.x, spot.y)])
    page.mouse.click(x, y)
    card = page.locator('#tab-info article.feature[data-layer="ydyh"]')
    card.wait_for()
    assert page.locator("#tab-info").is_visible()
    assert card.locator('tr[data-field="BSM"] td').inner_text() == str(parcel["BSM"])
    code_text = card.locator('tr[data-field="YDYHFLDM"] td').inner_text()
    assert code_text == f"{parcel['YDYHFLDM']} {parcel['YDYHFLMC']}"
    assert card.locator('tr[data-field="MJ"] th').inner_text() == "面积"
    area = card.locator('tr[data-field="MJ"] td').inner_text()
    assert "m²" in area and "公顷" in area
    hectares = float(area.split("（")[1].split()[0].replace(",", ""))
    assert abs(hectares - parcel["MJ"] / 10_000) <= 0.01
    # the same card in English: field names and the class name from the legend
    page.locator("#lang").click()
    assert card.locator('tr[data-field="MJ"] th').inner_text() == "Area"
    assert "ha" in card.locator('tr[data-field="MJ"] td').inner_text()
    page.locator("#lang").click()
    # the parcel's whole geometry is outlined (from the OGC API)
    page.wait_for_function("() => document.body.dataset.selection === 'ogc'")
    wait_idle(page)
    save_screenshot(page.screenshot(), "viewer.png", shots)


def test_search_finds_a_village_and_flies_to_it(
    viewer_server: Server, new_page: Any, full_release: BuildResult
) -> None:
    cun = read_layer(full_release.path, "cun")
    counts = cun["CJMC"].value_counts()
    unique = cun[cun["CJMC"].map(counts) == 1]
    village = unique.iloc[len(unique) // 2]
    page = new_page()
    open_map(page, viewer_server.base + "/")
    page.locator("#search-input").fill(village["CJMC"])
    hit = page.locator(f'#search-results li[data-layer="cun"][data-id="{village.name}"]')
    hit.wait_for()
    hit.click()
    page.wait_for_function(
        "([x, y]) => { const c = window.onemap.map.getCenter();"
        " return Math.abs(c.lng - x) < 1e-4 && Math.abs(c.lat - y) < 1e-4 && !window.onemap.map.isMoving(); }",
        arg=[village.geometry.centroid.x, village.geometry.centroid.y],
    )
    assert page.evaluate("window.onemap.map.getZoom()") >= 14
    card = page.locator('#tab-info article.feature[data-layer="cun"]')
    assert card.locator('tr[data-field="CJMC"] td').inner_text() == village["CJMC"]


def test_phone_layout_fills_the_screen_without_overflow(
    viewer_server: Server, new_page: Any, full_release: BuildResult, shots: Path
) -> None:
    view = centre_view(full_release.path, zoom=12)
    page = new_page(390, 844, is_mobile=True, has_touch=True, device_scale_factor=1)
    open_map(page, f"{viewer_server.base}/#map={view.zoom}/{view.lat}/{view.lng}")
    sizes = page.evaluate(
        """() => ({
          doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,
          map: document.getElementById('map').getBoundingClientRect().toJSON(),
          canvas: window.onemap.map.getCanvas().getBoundingClientRect().toJSON(),
          sheet: document.getElementById('sheet').getBoundingClientRect().toJSON(),
          widest: Math.max(...[...document.querySelectorAll('body *')]
            .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
            .map(e => e.getBoundingClientRect().right)),
        })"""
    )
    assert sizes["doc"] <= 390 and sizes["body"] <= 390
    assert sizes["widest"] <= 390.5
    for rect in (sizes["map"], sizes["canvas"]):
        assert (rect["x"], rect["y"], rect["width"], rect["height"]) == (0, 0, 390, 844)
    # the controls are a bottom sheet: full width, at the bottom, collapsed to a strip
    sheet = sizes["sheet"]
    assert (sheet["x"], sheet["width"], sheet["bottom"]) == (0, 390, 844)
    assert sheet["height"] < 844 * 0.2
    page.locator('#tabs button[data-tab="layers"]').click()
    page.wait_for_function(
        "() => document.getElementById('sheet').getBoundingClientRect().height > 844 * 0.4"
    )
    expanded = page.evaluate("document.getElementById('sheet').getBoundingClientRect().height")
    assert expanded < 844 * 0.7
    assert page.locator('input[data-layer="ghfq"]').is_visible()
    page.wait_for_timeout(300)  # the sheet's transition
    save_screenshot(page.screenshot(), "viewer-phone.png", shots)


def test_public_viewer_asks_only_its_server_and_offers_no_internal_layer(
    viewer_server: Server, new_page: Any
) -> None:
    page = new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    open_map(page, viewer_server.base + "/")
    page.locator("#search-input").fill("村")  # loads the search index too
    page.locator("#search-results li[data-id]").first.wait_for()
    server = urlsplit(viewer_server.base).netloc
    hosts = {urlsplit(u).netloc for u in urls if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {server}, hosts
    assert page.locator('[data-layer="spxm"]').count() == 0
    assert "spxm" not in page.evaluate("JSON.stringify(window.onemap.map.getStyle())")
    assert "在审建设项目" not in page.content()
    assert not any("internal" in u for u in urls)


def test_internal_viewer_asks_for_a_token_then_shows_internal_layers(
    viewer_server: Server, new_page: Any
) -> None:
    page = new_page()
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    page.goto(viewer_server.base + "/internal/")
    page.locator("#login").wait_for()
    page.locator("#login-token").fill("not-a-token")
    page.locator("#login button[type=submit]").click()
    page.locator("#login-error").wait_for()
    page.locator("#login-token").fill(viewer_server.token)
    page.locator("#login button[type=submit]").click()
    page.wait_for_function("() => window.onemap && window.onemap.ready")
    wait_idle(page)
    assert page.locator('.layer[data-layer="spxm"] input').is_checked()
    assert page.evaluate("window.onemap.map.getLayoutProperty('spxm-fill', 'visibility')") != "none"
    assert page.locator(".layer-group h3").all_inner_texts()[-1] == "审批"
    bearer = f"Bearer {viewer_server.token}"
    style = [auth for url, auth in sent if url.endswith("/styles/internal.json")]
    assert style and all(auth == bearer for auth in style)
    tiles = [auth for url, auth in sent if "/tiles/internal/" in url]
    assert tiles and all(auth == bearer for auth in tiles)


def test_latin_labels_draw_from_our_glyphs(viewer_server: Server, new_page: Any) -> None:
    """A Latin label needs the server's glyph ranges (CJK is drawn locally): it must appear."""
    page = new_page()
    urls: list[str] = []
    page.on("response", lambda r: urls.append(f"{r.status} {r.url}"))
    open_map(page, viewer_server.base + "/#layers=")
    clip = {"x": 700, "y": 300, "width": 400, "height": 200}
    before = pixels(page.screenshot(clip=clip))
    page.evaluate(
        """() => { const map = window.onemap.map;
          const at = map.unproject([900, 400]).toArray();
          map.addSource('probe', {type: 'geojson', data: {type: 'Point', coordinates: at}});
          map.addLayer({id: 'probe', type: 'symbol', source: 'probe', layout: {
            'text-field': 'Zhangjiajie 430800', 'text-font': ['Noto Sans Regular'], 'text-size': 24}}); }"""
    )
    wait_idle(page)
    after = pixels(page.screenshot(clip=clip))
    changed = np.any(np.abs(after.astype(int) - before.astype(int)) > 60, axis=-1)
    assert changed.sum() > 400
    assert any("/fonts/Noto%20Sans%20Regular/0-255.pbf" in u and u.startswith("200") for u in urls)
