"""The server's lifespan: load the release at startup, watch DIR/current (and SIGHUP), flush the
access log and the shared metrics, freeze the startup objects out of the collector's sight, and
run what the app starts with it and stops with it (publish.app: the raster render processes)."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread

from publish.server.logs import ACCESS_FLUSH_S, flush_access_log
from publish.server.metrics import Metrics
from publish.server.state import ServerState


def _install_sighup(callback: Callable[[], None]) -> Callable[[], None]:
    """SIGHUP → callback, when the loop runs in the main thread; returns the undo."""
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is None:
        return lambda: None
    try:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(sighup, callback)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread (tests)
        return lambda: None

    def remove() -> None:
        loop.remove_signal_handler(sighup)

    return remove


def _freeze_startup_objects() -> None:
    """Move everything alive after startup (the libraries, the first release) out of the
    garbage collector's sight. A full collection walks every tracked object: ~100 ms here with
    pygeoapi, MapProxy and GeoPandas loaded, paid by whichever request triggers it — most of
    the tiles' p99. Frozen objects are still freed by reference counting; only cycles among
    them are kept (these live as long as the process anyway)."""
    gc.collect()
    gc.freeze()


async def _flush_every(seconds: float, metrics: Metrics) -> None:
    """Count the requests waiting (the access recorder's batch) and write their access lines,
    and the tile cache's counts to the shared metrics."""
    while True:
        await anyio.sleep(seconds)
        metrics.sync()  # first: it hands the access log the lines the recorder holds
        flush_access_log()


def lifespan(
    state: ServerState,
    metrics: Metrics,
    *,
    on_start: Sequence[Callable[[], None]] = (),
    on_stop: Sequence[Callable[[], None]] = (),
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The ASGI lifespan of an app serving `state`. `on_start`: work started in the background
    once the release is loaded (the server answers meanwhile: each runs in a thread, and should
    return soon, leaving its work to processes or threads of its own); `on_stop`: run at
    shutdown, after the requests (in a thread: they may wait)."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[None]:
        holder = state.holder
        # first: a SIGHUP from here on is ours (its default ends the process); from the first
        # "serving release" line on, an operator's or a test's SIGHUP is safe
        remove_sighup = _install_sighup(holder.wake)
        try:
            await anyio.to_thread.run_sync(holder.check)
            _freeze_startup_objects()
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(holder.watch, state.settings.reload_interval_s)
                tasks.start_soon(_flush_every, ACCESS_FLUSH_S, metrics)
                for start in on_start:
                    tasks.start_soon(anyio.to_thread.run_sync, start)
                yield
                tasks.cancel_scope.cancel()
        finally:
            remove_sighup()
            metrics.sync()
            flush_access_log()
            for stop in on_stop:
                await anyio.to_thread.run_sync(stop)

    return run
