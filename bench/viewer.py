"""The viewer's first view: time from navigation to the map's `idle`, and bytes transferred;
with `--page dashboard`, the monitoring dashboard's (/dashboard) instead.

    .venv/bin/python bench/viewer.py --tiles tiles [--rounds 5] [--port 8799] [--page dashboard]

Starts `python -m publish serve` on 127.0.0.1 and Debian's Chromium (Playwright for Python, the
same launch as tests/viewer). Each round opens the public viewer at / in a fresh browser context
(an empty HTTP cache: a first visit) at 1280×800 and at 390×844 (a phone), and measures from the
navigation's start (performance.timeOrigin) to the first `idle` of the map (every tile and glyph
it asked for drawn); the bytes are every response's headers and encoded (on-the-wire) body,
MapLibre's worker's requests (tiles, glyphs) included, from Playwright's request sizes. A "revisit" row reloads the page in the same context (the HTTP cache warm).
The dashboard's first view ends when its cards, table and charts are drawn (its county map lies
below the first view and loads when scrolled to); a "+ county map" row then scrolls to the map
and counts everything up to the map's `idle` (the release needs its monitoring files).
Prints Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from support.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DASHBOARD_MAP_IDLE,
    DASHBOARD_MAP_LOADED,
    DASHBOARD_READY,
    MAP_READY,
    WAIT_IDLE,
)

# the dashboard is drawn when it says it is ready (its charts draw synchronously); two frames
# let the browser paint them
PAINTED = (
    "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
)
PAGES = {
    "viewer": ("/", MAP_READY, WAIT_IDLE),
    "dashboard": ("/dashboard", DASHBOARD_READY, PAINTED),
}


def _serve(tiles: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISH_")}
    args = ["serve", "--tiles", str(tiles), "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "publish", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not come up")


def _view(
    page: Any, url: str, reload: bool = False, kind: str = "viewer", scroll_to: str | None = None
) -> tuple[float, int, int]:
    """(ms from navigation start to idle, bytes on the wire, requests) for one page load of
    the `kind` of page (PAGES), then, with `scroll_to`, of scrolling that element into view
    and the dashboard's map drawn. The requests include those of MapLibre's worker (tiles,
    glyphs); a request's bytes are its response's headers and encoded body as received (a 304
    or a cache hit counts its headers)."""
    finished: list[Any] = []
    _path, ready, idle = PAGES[kind]

    def collect(request: Any) -> None:
        finished.append(request)

    page.context.on("requestfinished", collect)  # the context's: the worker's requests too
    if reload:
        page.reload()
    else:
        page.goto(url)
    page.wait_for_function(ready, timeout=120_000)
    page.evaluate(idle)
    if scroll_to is not None:
        page.locator(scroll_to).scroll_into_view_if_needed()
        page.wait_for_function(DASHBOARD_MAP_LOADED, timeout=120_000)
        page.evaluate(DASHBOARD_MAP_IDLE)
    elapsed = page.evaluate("performance.now()")
    time.sleep(0.3)  # let the last requests finish
    page.context.remove_listener("requestfinished", collect)
    # Playwright reports no body size for the worker's script: the page's resource timing has it
    timing = dict(
        page.evaluate(
            "performance.getEntriesByType('resource').map(e => [e.name, e.encodedBodySize])"
        )
    )
    total = 0
    for request in finished:
        sizes = request.sizes()
        body = sizes["responseBodySize"] or timing.get(request.url, 0)
        total += max(body, 0) + max(sizes["responseHeadersSize"], 0)
    return float(elapsed), total, len(finished)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiles", type=Path, required=True, help="tiles folder with current")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--page", choices=sorted(PAGES), default="viewer")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = _serve(args.tiles, args.port)
    url = f"http://127.0.0.1:{args.port}{PAGES[args.page][0]}"
    rows: dict[str, list[tuple[float, int, int]]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.rounds):
                for name, size in (
                    ("desktop 1280×800", (1280, 800)),
                    ("phone 390×844", (390, 844)),
                ):
                    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
                    page = context.new_page()
                    view = partial(_view, page, url, kind=args.page)
                    rows.setdefault(f"{name}, first visit", []).append(view())
                    rows.setdefault(f"{name}, revisit", []).append(view(True))
                    context.close()
                    if args.page == "dashboard":  # a fresh context: the map on a first visit
                        context = browser.new_context(
                            viewport={"width": size[0], "height": size[1]}
                        )
                        page = context.new_page()
                        seen = _view(page, url, kind=args.page, scroll_to="#county-map")
                        rows.setdefault(f"{name}, first visit + county map", []).append(seen)
                        context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(15)
    print("| view | rounds | idle median (ms) | idle max (ms) | transferred (KiB) | requests |")
    print("|---|---|---|---|---|---|")
    for name, values in rows.items():
        times = [v[0] for v in values]
        kib = statistics.median(v[1] for v in values) / 1024
        count = statistics.median(v[2] for v in values)
        print(
            f"| {name} | {len(values)} | {statistics.median(times):.0f} | {max(times):.0f} "
            f"| {kib:,.0f} | {count:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
