"""Raster tiles rendered in processes of their own, so that a map never takes a server worker's
memory with it.

MapLibre Native keeps per-renderer GPU-less buffers, glyph atlases and tile caches, and the
allocator keeps what it freed: one server worker that rendered rasters in its own threads grew
from 117 MB to 430 MB after the first renders and to ~800 MB after large WMS maps (issue 15).
`RenderProcesses` sends each render to a small pool of spawned processes (`processes` at most,
two by default), each with a one-thread mapli renderer (publish.raster.renderer.Renderer), and
replaces the pool after `processes × renders_per_process` renders (the old processes finish what
they hold and exit), which returns their memory to the system. (concurrent.futures'
`max_tasks_per_child` would recycle them one by one, but hung here with asyncio waiting on it.)
The server worker holds only the PNGs passing through. A style is sent with every render as JSON
text (tens of KB, made once per key here) and registered by the process that first draws it.
A process that dies (killed, out of memory) costs the renders it held: they fail with
RenderError, and the next render starts a new pool. A render process whose server is gone
(SIGKILL, or an exit that skipped closing the pool) exits within a second. `memory()` gives the processes' resident
sizes for /metrics.

A process loads MapLibre as it starts, before it takes a render; a server starts its processes
in the background at startup (`warm`, from the lifespan when Settings.raster_warmup is on, as
`serve` has it), so that its first raster waits only for the drawing (in `make demo` it waited
5.6 s for its process), and stops them at shutdown (`close_shared_renderer`).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from publish.raster.renderer import DEFAULT_MAX_STYLES, Renderer, RenderError, StyleFactory

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

DEFAULT_PROCESSES = 2
DEFAULT_RENDERS_PER_PROCESS = 200

_CHILD: Renderer | None = None  # in a render process: its renderer


def _child_renderer() -> Renderer:
    global _CHILD
    if _CHILD is None:
        _CHILD = Renderer(workers=1, max_styles=DEFAULT_MAX_STYLES)
    return _CHILD


def _follow_parent(parent: int) -> None:
    """In a render process: exit as soon as the server process that started it is gone (killed,
    or ended without closing the pool), rather than linger as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _start_child(parent: int) -> None:
    """A render process's first work, before it takes any render: follow its server, and load
    MapLibre (its renderer's worker started), so that the render that made it, or the first one
    after `warm`, waits only for the drawing. A renderer that cannot start is left to the first
    render, which then raises its RenderError."""
    _follow_parent(parent)
    with suppress(RenderError):
        _child_renderer().start()


def _child_ready() -> int:
    return os.getpid()


def _child_tile(key: str, style: str, z: int, x: int, y: int) -> bytes:
    return _child_renderer().render_tile(key, lambda: json.loads(style), z, x, y)


def _rss_bytes(pid: int) -> int:
    """A process's resident set (VmRSS), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class RenderProcesses:
    """Renders XYZ tiles of registered styles in child processes (see the module)."""

    def __init__(
        self,
        processes: int = DEFAULT_PROCESSES,
        renders_per_process: int = DEFAULT_RENDERS_PER_PROCESS,
        max_styles: int = DEFAULT_MAX_STYLES,
    ) -> None:
        if processes < 1 or renders_per_process < 1:
            raise ValueError("processes and renders_per_process must be at least 1")
        self.processes = processes
        self.renders_per_process = renders_per_process
        self.max_styles = max_styles
        self._executor: ProcessPoolExecutor | None = None
        self._submitted = 0  # renders sent to the current pool
        self._pid = os.getpid()
        self._styles: OrderedDict[str, str] = OrderedDict()  # key → style JSON, most recent last
        self._lock = threading.Lock()

    def _style(self, key: str, make_style: StyleFactory) -> str:
        with self._lock:
            text = self._styles.get(key)
            if text is not None:
                self._styles.move_to_end(key)
                return text
        text = json.dumps(make_style(), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._styles[key] = text
            while len(self._styles) > self.max_styles:
                self._styles.popitem(last=False)
        return text

    def _pool(self, renders: int = 1) -> ProcessPoolExecutor:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's pool is not ours
                self._executor, self._pid = None, os.getpid()
            if self._submitted >= self.processes * self.renders_per_process and self._executor:
                # retire the pool: its processes finish what they hold, then exit
                self._executor.shutdown(wait=False)
                self._executor = None
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child,
                    initargs=(os.getpid(),),
                )
                self._submitted = 0
            self._submitted += renders
            return self._executor

    def _submit(self, function: Any, *args: Any) -> tuple[Future[bytes], ProcessPoolExecutor]:
        pool = self._pool()
        try:
            return pool.submit(function, *args), pool
        except (BrokenProcessPool, RuntimeError) as exc:  # broken, or shut down meanwhile
            self._drop(pool)
            raise RenderError(f"the raster renderer's processes stopped: {exc}") from exc

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is pool:
                self._executor = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _died(self, pool: ProcessPoolExecutor, exc: BaseException) -> RenderError:
        self._drop(pool)
        return RenderError(f"a raster renderer process died while drawing ({exc})")

    def render_tile(self, key: str, make_style: StyleFactory, z: int, x: int, y: int) -> bytes:
        """The PNG of XYZ tile z/x/y (256 px) of style `key`; blocks the calling thread."""
        future, pool = self._submit(_child_tile, key, self._style(key, make_style), z, x, y)
        try:
            return bytes(future.result())
        except BrokenProcessPool as exc:
            raise self._died(pool, exc) from exc

    async def arender_tile(
        self, key: str, make_style: StyleFactory, z: int, x: int, y: int
    ) -> bytes:
        """`render_tile` for the event loop: waits without holding a thread."""
        future, pool = self._submit(_child_tile, key, self._style(key, make_style), z, x, y)
        try:
            png: bytes = await asyncio.wrap_future(future)
            return bytes(png)
        except BrokenProcessPool as exc:
            raise self._died(pool, exc) from exc

    def warm(self) -> None:
        """Start every process now, in the background (each loads MapLibre as it starts:
        seconds), rather than on the first renders; returns at once."""
        pool = self._pool(renders=0)
        try:
            for _ in range(self.processes):  # no process idle: each submit starts one
                pool.submit(_child_ready)
        except (BrokenProcessPool, RuntimeError):  # shut down meanwhile: the renders restart it
            self._drop(pool)

    def memory(self) -> dict[int, int]:
        """The render processes alive now: pid → resident bytes."""
        with self._lock:
            pool = self._executor
        processes = dict(getattr(pool, "_processes", None) or {}) if pool is not None else {}
        return {pid: _rss_bytes(pid) for pid in processes}

    def close(self) -> None:
        """Stop the processes (a later render starts new ones)."""
        with self._lock:
            pool, self._executor = self._executor, None
            self._styles.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_SHARED: list[RenderProcesses | Renderer] = []
_SHARED_LOCK = threading.Lock()


def shared_renderer() -> RenderProcesses | Renderer:
    """The process's renderer, which the raster endpoint and the MapProxy sources share: render
    processes (made on first use) unless `use_in_process_renderer` chose otherwise."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(RenderProcesses())
        return _SHARED[0]


def warm_shared_renderer() -> None:
    """Start the shared renderer's processes now (the server's startup: publish.app)."""
    renderer = shared_renderer()
    if isinstance(renderer, RenderProcesses):
        renderer.warm()


def close_shared_renderer() -> None:
    """Stop the shared render processes, if any were made, waiting for them (the server's
    lifespan, at shutdown). A server worker that is itself a multiprocessing child (granian's,
    uvicorn's with several workers) would otherwise wait at exit for them forever:
    multiprocessing joins a child's children before the executor's exit hook tells them to
    stop."""
    with _SHARED_LOCK:
        renderer = _SHARED[0] if _SHARED else None
    if isinstance(renderer, RenderProcesses):
        renderer.close()


def use_in_process_renderer(workers: int = 1) -> None:
    """Render in this process's own threads from now on (MapProxy's seeding, whose worker
    processes are forked and each render anyway)."""
    with _SHARED_LOCK:
        _SHARED[:] = [Renderer(workers=workers)]


class RendererCollector:
    """Prometheus gauges of the shared renderer's processes (publish.server.metrics `extra`):
    how many run and their resident bytes in all, apart from the worker's own."""

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.metrics_core import GaugeMetricFamily

        with _SHARED_LOCK:
            renderer = _SHARED[0] if _SHARED else None
        sizes = renderer.memory() if isinstance(renderer, RenderProcesses) else {}
        yield GaugeMetricFamily(
            "onemap_renderer_processes", "Raster render processes alive", value=len(sizes)
        )
        yield GaugeMetricFamily(
            "onemap_renderer_resident_bytes",
            "Resident memory of the raster render processes, in all",
            value=sum(sizes.values()),
        )
