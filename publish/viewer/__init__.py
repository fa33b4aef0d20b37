"""The map viewer's built assets. The sources are in web/ (MapLibre GL JS and pmtiles from npm,
bundled by esbuild: `npm --prefix web ci && npm --prefix web run build`); the build writes
index.html and content-hashed scripts and styles into publish/viewer/static/ (git-ignored),
which publish.server.viewer serves."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
