"""A renderer in this process: one mapli `RenderPool` (worker threads, each with its own EGL
context and MapLibre Native renderers), created on the first render. The server renders in
processes of its own (publish.raster.processes), each holding one of these; the review's finding
maps and MapProxy's seeding use one directly.

mapli's pool is safe to call from any thread and from asyncio: a call waits (GIL released) until
one of the pool's `workers` renders it, so the pool itself is the bound on concurrent renders.
Styles are registered under a key (release id, audience, layer): a new release registers new
keys, and each worker keeps only its `max_styles` most recently used renderers, so an old
release's renderers fall out as the new one's are used.

`EGL_PLATFORM=surfaceless` is set (unless already set) before the pool starts: MapLibre Native
then renders on the CPU (Mesa's llvmpipe) with no display.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from publish.errors import PublishError

StyleFactory = Callable[[], dict[str, Any]]
TILE_SIZE = 256
DEFAULT_MAX_STYLES = 32  # per worker: 2 audiences × (whole map + 13 layers) + a spare


class RenderError(PublishError):
    """A raster could not be rendered (no EGL context, a style MapLibre refuses, …)."""


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Renderer:
    """Renders XYZ tiles of registered styles; `workers` renders at a time."""

    def __init__(self, workers: int | None = None, max_styles: int = DEFAULT_MAX_STYLES) -> None:
        self.workers = workers or default_workers()
        self.max_styles = max_styles
        self._pool: Any = None
        self._pid = os.getpid()
        self._styles: set[str] = set()
        self._lock = threading.Lock()

    def _ensure(self, key: str, make_style: StyleFactory) -> Any:
        with self._lock:
            pool = self._started()
            if key not in self._styles:
                pool.register_style(key, json=make_style())
                self._styles.add(key)
            return pool

    def _started(self) -> Any:
        """The pool, started if need be (the caller holds the lock)."""
        if self._pid != os.getpid():  # a forked child (MapProxy's seed workers)
            self._pool, self._pid, self._styles = None, os.getpid(), set()
        if self._pool is None:
            self._pool = _start_pool(self.workers, self.max_styles)
        return self._pool

    def start(self) -> None:
        """Start the workers now (MapLibre loaded, EGL contexts made) rather than on the first
        render."""
        with self._lock:
            self._started()

    def close(self) -> None:
        """Stop the workers and forget the styles (a later render starts a new pool)."""
        with self._lock:
            self._pool, self._styles = None, set()

    def render_tile(self, key: str, make_style: StyleFactory, z: int, x: int, y: int) -> bytes:
        """The PNG of XYZ tile z/x/y (256 px) of style `key` (registered from `make_style`
        the first time)."""
        import mapli

        pool = self._ensure(key, make_style)
        try:
            return bytes(pool.render_tile(key, z=z, x=x, y=y, **_tile_args(z)))
        except mapli.MapliError as exc:
            raise RenderError(f"rendering {key} {z}/{x}/{y} failed: {exc}") from exc

    def render_view(
        self,
        key: str,
        make_style: StyleFactory,
        *,
        lon: float,
        lat: float,
        zoom: float,
        width: int,
        height: int,
    ) -> bytes:
        """The PNG (width × height, pixel ratio 1) of style `key` centred on lon/lat at a
        MapLibre zoom (the review's finding maps)."""
        import mapli

        pool = self._ensure(key, make_style)
        try:
            return bytes(pool.render(key, lon=lon, lat=lat, zoom=zoom, width=width, height=height))
        except mapli.MapliError as exc:
            raise RenderError(f"rendering {key} at {lon},{lat} z{zoom:.2f} failed: {exc}") from exc

    async def arender_tile(
        self, key: str, make_style: StyleFactory, z: int, x: int, y: int
    ) -> bytes:
        """`render_tile` for the event loop: waits without holding a thread."""
        import mapli

        pool = self._ensure(key, make_style)
        try:
            return bytes(await pool.arender_tile(key, z=z, x=x, y=y, **_tile_args(z)))
        except mapli.MapliError as exc:
            raise RenderError(f"rendering {key} {z}/{x}/{y} failed: {exc}") from exc


def _tile_args(z: int) -> dict[str, Any]:
    # MapLibre's zooms are for 512 px tiles: a 256 px XYZ tile is drawn one zoom lower, which
    # does not exist at z=0; there the 512 px world is drawn at half the pixel ratio.
    if z == 0:
        return {"tile_size": 2 * TILE_SIZE, "pixel_ratio": 0.5}
    return {"tile_size": TILE_SIZE}


def _start_pool(workers: int, max_styles: int) -> Any:
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    import mapli

    from publish.raster.glyphs import serve_glyphs
    from publish.raster.style import GLYPHS_SCHEME

    mapli.register_scheme_handler(GLYPHS_SCHEME, serve_glyphs)
    try:
        return mapli.RenderPool(workers=workers, max_renderers_per_worker=max_styles)
    except mapli.MapliError as exc:
        raise RenderError(f"cannot start the raster renderer: {exc}") from exc
