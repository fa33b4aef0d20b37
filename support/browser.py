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
# True once the monitoring dashboard has drawn its cards, table and charts (its map, below the
# first view, loads when scrolled to).
DASHBOARD_READY = "() => window.onemapDashboard && window.onemapDashboard.ready"
# Resolves when the dashboard's county map (loaded when it came into view) has drawn its tiles.
DASHBOARD_MAP_IDLE = """() => new Promise((resolve) => {
  const map = window.onemapDashboard.countyMap.map;
  if (map.loaded() && map.areTilesLoaded()) resolve(true); else map.once('idle', () => resolve(true));
})"""
# after a change to the county map's paint: the next idle after a frame drawn from now on (the map
# may still say loaded() before it has drawn the change)
DASHBOARD_MAP_REPAINTED = """() => new Promise((resolve) => {
  const map = window.onemapDashboard.countyMap.map;
  map.once('idle', () => resolve(true));
  map.triggerRepaint();
})"""
DASHBOARD_MAP_LOADED = (
    "() => { const m = window.onemapDashboard.countyMap.map; return !!m && m.loaded(); }"
)
