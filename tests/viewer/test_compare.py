"""The viewer's compare mode (版本对比, issue 13) in Chromium against a real server on a tiles
folder holding three releases: the session's sample (revision 1), then its revisions 2 and 3
built over it, each replacing the one before. Both maps reach idle; the divider swipes; the
changes overlay shows a red-line patch revision 2 added, in green, where it is; the table lists
what changes.json lists (between neighbours, and from revision 1 to 3 across two diffs) and
flies to a feature; the permalink keeps both release ids; a phone stacks the two maps; the
internal viewer compares with its token."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import shapely

from publish.catalog import load_catalog
from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from publish.sample.generate import generate
from publish.server.auth import append_token_hash, new_token
from tests.viewer.browser import Server, hex_rgb, open_map, pixels, save_screenshot, serve
from tests.viewer.data import read_layer

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

pytestmark = pytest.mark.slow

ADDED = "#00C853"  # web/src/compare.js CHANGE_COLOURS: added features
RED_LINE = "#E60000"  # styles/control_lines.yml: the ecological red line's outline
PARCELS, SEED = 2_000, 7  # the session's sample_dir is revision 1 of the same city


@dataclass(frozen=True)
class Releases:
    server: Server
    first: str  # revision 1
    second: str  # revision 2, replaces the first
    third: str  # revision 3, current, replaces the second
    second_dir: Path
    changes: dict[str, Any]  # revision 2's changes.json
    changes_3: dict[str, Any]  # revision 3's


@pytest.fixture(scope="module")
def releases(
    full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Releases]:
    """The full release's tiles folder copied (its layer cache too, so only the changed layers
    are built again), revisions 2 and 3 built over it, and a server on the copy."""
    root = tmp_path_factory.mktemp("compare")
    tiles = root / "tiles"
    shutil.copytree(full_release.path.parents[1], tiles, symlinks=True)
    built, changes = [], []
    for revision in (2, 3):
        sample = root / f"revision{revision}"
        generate(sample, parcels=PARCELS, seed=SEED, revision=revision)
        options = BuildOptions(catalog=sample / "layers.yml", out=tiles, note=f"第{revision}版")
        built.append(build(options, Reporter(io.StringIO(), rich=False)).path)
        changes.append(json.loads((sample / "changes.json").read_text(encoding="utf-8")))
    token = new_token()
    append_token_hash(root / "tokens", token)
    with serve(tiles, root / "tokens", token, root / "serve.log") as server:
        yield Releases(
            server,
            full_release.path.name,
            built[0].name,
            built[1].name,
            built[0],
            changes[0],
            changes[1],
        )


# Resolves when the compare mode has both maps, their overlay and its table, and both are idle.
WAIT_COMPARE = """() => new Promise((resolve) => {
  const check = () => {
    const c = window.onemap && window.onemap.compare;
    if (!c || !c.ready) return setTimeout(check, 100);
    const maps = [c.maps.left, c.maps.right];
    Promise.all(maps.map((m) => new Promise((done) => {
      if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) done(true);
      else m.once('idle', () => done(true));
    }))).then(() => resolve(true));
  };
  check();
})"""


def wait_compare(page: Any) -> None:
    page.evaluate(WAIT_COMPARE)


def open_compare(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.onemap && window.onemap.ready", timeout=60_000)
    wait_compare(page)
    assert page.evaluate("window.__cspViolations || []") == []


def _added_patch(releases: Releases) -> tuple[int, shapely.Geometry]:
    """The largest red-line patch revision 2 added (changes.json) and its outline (EPSG:4326)."""
    added = [e for e in releases.changes["layers"]["stbhhx"] if e["kind"] == "added"]
    patch = max(added, key=lambda e: e["area_m2"])
    red = read_layer(releases.second_dir, "stbhhx")
    geometry = red[red["BSM"] == patch["id"]].geometry.iloc[0]
    return int(patch["id"]), geometry


@pytest.fixture(scope="module")
def internal(sample_dir: Path) -> set[str]:
    """The sample's internal layers: the public compare mode never lists them."""
    return {
        spec.id for spec in load_catalog(sample_dir / "layers.yml").layers if not spec.is_public
    }


def _listed(
    changes: dict[str, list[dict[str, Any]]], leave_out: set[str]
) -> set[tuple[str, str, str]]:
    """(layer, id, kind) of a changes.json list: its geometry/attribute kinds are "changed"."""
    kinds = {"added": "added", "removed": "removed"}
    return {
        (layer, str(entry["id"]), kinds.get(entry["kind"], "changed"))
        for layer, entries in changes.items()
        if layer not in leave_out
        for entry in entries
    }


def _table(page: Any) -> set[tuple[str, str, str]]:
    rows = page.evaluate(
        """() => [...document.querySelectorAll('#tab-compare tr[data-key]')]
             .map(r => [r.dataset.layer, r.dataset.id, r.dataset.kind])"""
    )
    return {(layer, fid, kind) for layer, fid, kind in rows}


def _project(page: Any, side: str, points: list[tuple[float, float]]) -> np.ndarray[Any, Any]:
    xy = page.evaluate(
        """([side, pts]) => pts.map(p => {
             const q = window.onemap.compare.maps[side].project(p); return [q.x, q.y]; })""",
        [side, points],
    )
    return np.array(xy, dtype=float)


def _hits(page: Any, image: np.ndarray[Any, Any], outline: Any, colour: str) -> tuple[int, int]:
    """(points of `outline` with `colour` within 2 px, points in the free part of the screen)."""
    samples = [outline.interpolate(d) for d in np.linspace(0, outline.length, 80)]
    xy = _project(page, "right", [(p.x, p.y) for p in samples])
    panel = page.evaluate("document.getElementById('sheet').getBoundingClientRect().right")
    height, width = image.shape[:2]
    target = np.array(hex_rgb(colour), dtype=np.int16)
    hits = seen = 0
    for x, y in xy:
        xi, yi = round(x), round(y)
        if not (panel + 4 <= xi < width - 4 and 4 <= yi < height - 4):
            continue
        seen += 1
        window = image[yi - 2 : yi + 3, xi - 2 : xi + 3].astype(np.int16)
        hits += bool(np.any(np.all(np.abs(window - target) <= 12, axis=-1)))
    return hits, seen


def _divider_x(page: Any) -> float:
    box = page.locator(".compare-divider").bounding_box()
    return float(box["x"] + box["width"] / 2)


def _clip_left(page: Any) -> float:
    clip = page.evaluate("document.querySelector('.compare-right').style.clipPath")
    found = re.fullmatch(r"inset\(0(?:px)? 0(?:px)? 0(?:px)? ([\d.]+)px\)", clip)
    assert found, clip
    return float(found.group(1))


def test_compare_opens_on_the_current_release_and_the_one_it_replaced(
    releases: Releases, new_page: Any, internal: set[str]
) -> None:
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_map(page, releases.server.base + "/")
    page.locator('#tabs button[data-tab="compare"]').click()
    assert page.locator("#compare-left").input_value() == releases.second
    assert page.locator("#compare-right").input_value() == releases.third
    page.locator("#compare-toggle").click()
    wait_compare(page)
    assert errors == []
    # two maps, each on its own release's style, filling the screen; the main map hidden
    assert page.locator(f'.compare-left[data-release="{releases.second}"] canvas').count() == 1
    assert page.locator(f'.compare-right[data-release="{releases.third}"] canvas').count() == 1
    widths = page.evaluate(
        "['left', 'right'].map(s => window.onemap.compare.maps[s].getContainer()"
        ".getBoundingClientRect().width)"
    )
    assert widths == [1280, 1280]
    assert page.evaluate("getComputedStyle(document.getElementById('map')).visibility") == (
        "hidden"
    )
    # the table lists what revision 3 changed, as its changes.json says, nothing internal
    assert _table(page) == _listed(releases.changes_3["layers"], internal)
    added = page.locator('#tab-compare tr[data-kind="added"]').first
    assert "新增" in added.inner_text()
    # the permalink names both releases
    assert f"compare={releases.second},{releases.third}" in page.url
    # English labels
    page.locator("#lang").click()
    assert "Added" in added.inner_text()
    assert page.locator("#compare-toggle").inner_text() == "Stop comparing"
    # leaving the mode shows the main map where the compare maps were
    centre = page.evaluate("window.onemap.compare.maps.right.getCenter().toArray()")
    page.locator("#compare-toggle").click()
    assert page.locator("#compare").is_hidden()
    assert "compare=" not in page.url
    main = page.evaluate("window.onemap.map.getCenter().toArray()")
    assert np.allclose(main, centre, atol=1e-6)


def test_releases_further_apart_compose_their_diffs(
    releases: Releases, new_page: Any, internal: set[str]
) -> None:
    """Revision 1 against revision 3: what changes.json lists since revision 1, found through
    the diffs of revisions 2 and 3 (added then removed, recoded and recoded back: no change);
    a patch revision 2 added and revision 3 kept is drawn from revision 2's tiles."""
    page = new_page()
    open_compare(page, f"{releases.server.base}/#compare={releases.first},{releases.third}")
    since = releases.changes_3["since_revision_1"]
    assert _table(page) == _listed(since, internal)
    assert "跨 2 个版本" in page.locator(".compare-changes").inner_text()
    untouched = {e["id"] for e in releases.changes_3["layers"]["stbhhx"]}
    kept = [
        e
        for e in releases.changes["layers"]["stbhhx"]
        if e["kind"] == "added" and e["id"] not in untouched
    ]
    bsm = max(kept, key=lambda e: e["area_m2"])["id"]
    red = read_layer(releases.second_dir, "stbhhx")
    patch = red[red["BSM"] == bsm].geometry.iloc[0]
    page.locator(f'#tab-compare tr[data-layer="stbhhx"][data-id="{bsm}"]').click()
    page.wait_for_function(
        f"() => window.onemap.compare.flown && window.onemap.compare.flown.id === '{bsm}'"
    )
    wait_compare(page)
    assert page.evaluate("window.onemap.compare.flown.bounds") is not None
    hits, seen = _hits(page, pixels(page.screenshot()), patch.boundary, ADDED)
    assert seen >= 60 and hits >= 0.8 * seen, (hits, seen)


def test_the_divider_swipes_and_the_maps_move_together(releases: Releases, new_page: Any) -> None:
    _, patch = _added_patch(releases)
    centre = patch.centroid
    page = new_page()
    url = (
        f"{releases.server.base}/#map=12.5/{centre.y}/{centre.x}&layers=stbhhx"
        f"&compare={releases.first},{releases.second}&changes=off"
    )
    open_compare(page, url)
    # the divider starts in the middle of the part of the screen the panel leaves
    x0 = _divider_x(page)
    panel = page.evaluate("document.getElementById('sheet').getBoundingClientRect().right")
    assert abs(x0 - (panel + (1280 - panel) / 2)) <= 2
    assert abs(_clip_left(page) - x0) <= 1
    # the patch is only in revision 2 (right): with the divider left of it, its red-line
    # outline shows; with the divider right of it, the left map (revision 1) has none there
    [[px, _]] = _project(page, "right", [(centre.x, centre.y)])
    outline = patch.boundary
    page.mouse.move(x0, 400)
    page.mouse.down()
    page.mouse.move(360, 420, steps=8)
    page.mouse.up()
    assert abs(_clip_left(page) - 360) <= 2
    assert abs(_divider_x(page) - 360) <= 2
    right_side = pixels(page.screenshot())
    hits, seen = _hits(page, right_side, outline, RED_LINE)
    assert seen >= 40 and hits >= 0.8 * seen, (hits, seen)
    page.locator(".compare-divider").focus()
    for _ in range(60):
        page.keyboard.press("ArrowRight")
    assert _clip_left(page) > px + 200
    wait_compare(page)
    left_side = pixels(page.screenshot())
    hits, seen = _hits(page, left_side, outline, RED_LINE)
    assert seen >= 40 and hits <= 0.1 * seen, (hits, seen)
    # a drag on the right map moves the left one with it
    page.mouse.move(1150, 300)
    page.mouse.down()
    page.mouse.move(1050, 250, steps=6)
    page.mouse.up()
    wait_compare(page)
    left, right = page.evaluate(
        "['left', 'right'].map(s => window.onemap.compare.maps[s].getCenter().toArray())"
    )
    assert np.allclose(left, right, atol=1e-9)
    assert not np.allclose(right, [centre.x, centre.y], atol=1e-4)


def test_changes_overlay_shows_the_added_patch_in_green_and_the_table_flies_to_it(
    releases: Releases, new_page: Any, shots: Path
) -> None:
    bsm, patch = _added_patch(releases)
    page = new_page()
    open_compare(page, f"{releases.server.base}/#compare={releases.first},{releases.second}")
    row = page.locator(f'#tab-compare tr[data-layer="stbhhx"][data-id="{bsm}"]')
    row.click()
    page.wait_for_function(
        f"() => window.onemap.compare.flown && window.onemap.compare.flown.id === '{bsm}'"
    )
    wait_compare(page)
    assert "selected" in (row.get_attribute("class") or "")
    # the view holds the whole patch, in the part of the screen the panel leaves
    west, south, east, north = patch.bounds
    corners = _project(page, "right", [(west, north), (east, south)])
    assert corners[0][0] >= 340 and corners[1][0] <= 1280
    assert corners[0][1] >= 0 and corners[1][1] <= 800
    assert corners[1][0] - corners[0][0] > 200 or corners[1][1] - corners[0][1] > 200
    image = pixels(page.screenshot())
    hits, seen = _hits(page, image, patch.boundary, ADDED)
    assert seen >= 60 and hits >= 0.8 * seen, (hits, seen)
    # the permalink follows the view and keeps the pair
    assert f"compare={releases.first},{releases.second}" in page.url
    # the picture: a wider view, the divider through the patch
    page.evaluate("window.onemap.compare.maps.right.zoomOut({duration: 0})")
    [[px, _]] = _project(page, "right", [(patch.centroid.x, patch.centroid.y)])
    page.evaluate("x => window.onemap.compare.swipe.moveTo(x / window.innerWidth)", float(px))
    wait_compare(page)
    save_screenshot(page.screenshot(), "viewer-compare.png", shots)
    # the overlay hidden: no green there any more (the green was the overlay's)
    page.locator('input[name="compare-mode"][value="off"]').check()
    wait_compare(page)
    hits, seen = _hits(page, pixels(page.screenshot()), patch.boundary, ADDED)
    assert hits <= 0.1 * seen, (hits, seen)
    assert "changes=off" in page.url
    # changes only: the plan's layers hidden on both maps, the overlay shown
    page.locator('input[name="compare-mode"][value="only"]').check()
    shown = page.evaluate(
        """() => ['left', 'right'].map(s => {
             const map = window.onemap.compare.maps[s];
             const layers = map.getStyle().layers;
             const plan = layers.filter(l => (l.metadata || {})['onemap:layer']);
             const overlay = layers.filter(l => (l.metadata || {})['onemap:overlay']);
             const on = (l) => map.getLayoutProperty(l.id, 'visibility') !== 'none';
             return [plan.length, plan.filter(on).length, overlay.filter(on).length]; })"""
    )
    for plan, plan_on, overlay_on in shown:
        assert plan > 10 and plan_on == 0 and overlay_on >= 4


def test_permalink_restores_both_releases_either_way_round(
    releases: Releases, new_page: Any
) -> None:
    bsm, _ = _added_patch(releases)
    page = new_page()
    url = f"{releases.server.base}/#compare={releases.first},{releases.second}&changes=only"
    open_compare(page, url)
    assert page.locator("#compare-left").input_value() == releases.first
    assert page.locator("#compare-right").input_value() == releases.second
    assert page.locator('input[name="compare-mode"][value="only"]').is_checked()
    assert page.locator("#tab-compare").is_visible()
    # picking the pair the other way round: the newer on the left, the patch now "removed"
    page.locator("#compare-left").select_option(releases.second)
    page.locator("#compare-right").select_option(releases.first)
    wait_compare(page)
    row = page.locator(f'#tab-compare tr[data-layer="stbhhx"][data-id="{bsm}"]')
    assert row.get_attribute("data-kind") == "removed"
    turned = page.url
    assert f"compare={releases.second},{releases.first}" in turned
    again = new_page()
    open_compare(again, turned)
    assert again.locator(f'.compare-left[data-release="{releases.second}"]').count() == 1
    assert again.locator(f'.compare-right[data-release="{releases.first}"]').count() == 1
    assert again.locator("#compare-left").input_value() == releases.second
    # a release no longer kept: the default pair, and a message naming it
    gone = "20200101T000000Z-00000000"
    third = new_page()
    open_compare(third, f"{releases.server.base}/#compare={gone},{releases.second}")
    assert gone in third.locator(".compare-message").inner_text()
    assert third.locator("#compare-left").input_value() == releases.second
    assert third.locator("#compare-right").input_value() == releases.third


def test_phone_stacks_the_two_maps(releases: Releases, new_page: Any) -> None:
    page = new_page(390, 844, is_mobile=True, has_touch=True, device_scale_factor=1)
    open_compare(page, f"{releases.server.base}/#compare={releases.first},{releases.second}")
    rects = page.evaluate(
        """() => ['left', 'right'].map(s =>
             window.onemap.compare.maps[s].getCanvas().getBoundingClientRect().toJSON())"""
    )
    top, bottom = rects
    for rect in rects:
        assert rect["x"] == 0 and rect["width"] == 390 and rect["height"] > 300
    assert top["y"] == 0 and bottom["y"] >= top["bottom"] - 1
    assert bottom["bottom"] <= 844
    assert page.locator(".compare-divider").is_hidden()
    assert page.evaluate("document.querySelector('.compare-right').style.clipPath") == ""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the two move together
    page.evaluate("window.onemap.compare.maps.left.jumpTo({center: [110.4, 29.1], zoom: 11})")
    right = page.evaluate("window.onemap.compare.maps.right.getCenter().toArray()")
    assert np.allclose(right, [110.4, 29.1], atol=1e-9)


def test_internal_viewer_compares_with_its_token(releases: Releases, new_page: Any) -> None:
    page = new_page()
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    page.goto(f"{releases.server.base}/internal/#compare={releases.first},{releases.second}")
    page.locator("#login-token").fill(releases.server.token)
    page.locator("#login button[type=submit]").click()
    page.wait_for_function("() => window.onemap && window.onemap.ready")
    wait_compare(page)
    # the internal diff lists the approved project of the internal layer
    project = releases.changes["layers"]["spxm"][0]
    row = page.locator(f'#tab-compare tr[data-layer="spxm"][data-id="{project["id"]}"]')
    assert row.get_attribute("data-kind") == project["kind"]
    bearer = f"Bearer {releases.server.token}"
    listed = [auth for url, auth in sent if url.endswith("/internal/releases")]
    diffs = [
        auth for url, auth in sent if url.endswith(f"/internal/releases/{releases.second}/diff")
    ]
    styles = [auth for url, auth in sent if "/styles/internal.json" in url and "/releases/" in url]
    tiles = [auth for url, auth in sent if re.search(r"/releases/[^/]+/tiles/internal/", url)]
    for found in (listed, diffs, styles, tiles):
        assert found and all(auth == bearer for auth in found)
