"""Debian's Chromium as the browser tests and bench/viewer.py launch it (Playwright), and the
scripts that wait for the viewer's map."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
# True once the viewer has set its map up (a function: the page's CSP forbids eval).
MAP_READY = "() => window.onemap && window.onemap.ready"
# Resolves when the map has drawn everything it asked for (tiles, glyphs), the `idle` event.
WAIT_IDLE = """() => new Promise((resolve) => {
  const map = window.onemap.map;
  if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) resolve(true);
  else map.once('idle', () => resolve(true));
})"""
