"""The worker threads the OGC routes run pygeoapi in: as many as the process has cores, each
GeoPackage service's requests working one at a time among them.

pygeoapi's request functions block (SQLite, files), so each OGC request runs in a worker thread.
Through anyio's default limiter up to 40 of them ran at once in one process: with 16 requests in
flight, 16 threads took turns at the GIL (SQLite releases it, Python takes it back, and a waiting
thread forces a switch every 5 ms), and issue 17 measured 4.3 ms of CPU a bbox query at 4 in
flight against 7.0 ms at 16 (1 worker, 1,000,000 parcels). A feature query is mostly Python, so
threads beyond the cores can only queue at the GIL; here the others wait on the event loop, in
order, at no CPU cost. Measured with bench/serve.py --only inflight, before and after in one
run, on a busy machine: at 200,000 parcels the CPU a request at -c16 went from 1.10–1.56× that
at -c4 to 1.01–1.04× (3.2–5.3 ms → 3.0–3.6 ms), the p99 at -c16 from 159–205 ms to 70–75 ms;
at 20,000 parcels there was no slowdown to cure (the CPU moved within the noise). The
1,000,000-parcel figure is still to be measured. The price: a slow request (a large `limit`,
a filter that scans the table) holds one of the few threads while the others queue behind it.

The threads are a `ThreadPoolExecutor` of that size per process, reached through asyncio's
`run_in_executor` (the caller's context variables copied, as anyio's `to_thread` does): its
queue hands the requests to the threads in order, as anyio's CapacityLimiter did, at a third of
the CPU anyio's hand-off took (no cancel scope, limiter or worker bookkeeping per call: ~45 →
~15 µs a call in a microbenchmark, 16 callers on 2 threads). A request whose task is cancelled
before its turn is never run; one cancelled while it runs keeps its thread until it returns.

Requests of a service whose feature collections are all on our GeoPackage provider work one at a
time in a process all the same (`one_at_a_time`; the other threads wait on a lock, which holds no
GIL): SQLite hands the GIL back at every row it steps and shapely at every call, and with a
second thread waiting for it each hand-back became a switch between threads. Measured with
bench/cpu_ab.sh on the 1,000,000-parcel release, the CQL2 paths at 1 worker, pairs in turns on a
shared machine (load 1.4–2.0), with this pool cut to one thread against two: 2,099 against 2,607
µs of CPU a request and 502 against 441 requests/s (each of 3 pairs alike); the lock gives these
services the same. Collections on PostGIS wait on PostgreSQL, not on the GIL, and keep every
thread working; so do process executions (seconds long).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

MIN_THREADS = 2  # one in SQLite (the GIL released) while another formats an answer

T = TypeVar("T")
_LOCK = threading.Lock()
_EXECUTOR: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, it)
_GATE: tuple[int, threading.Lock] | None = None  # (the process it belongs to, it)


def thread_count() -> int:
    """How many OGC requests work at once in one process: the cores it may run on (at least 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(MIN_THREADS, cores)


def ogc_executor() -> ThreadPoolExecutor:
    """This process's OGC worker threads (`thread_count()` of them, made on first use; a forked
    child makes its own)."""
    global _EXECUTOR
    with _LOCK:
        if _EXECUTOR is None or _EXECUTOR[0] != os.getpid():
            pool = ThreadPoolExecutor(thread_count(), thread_name_prefix="onemap-ogc")
            _EXECUTOR = (os.getpid(), pool)
        return _EXECUTOR[1]


async def run_in_ogc_thread(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in one of the OGC worker threads, once one is free (in order)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, function, *args)
    return await loop.run_in_executor(ogc_executor(), call)


def _gate() -> threading.Lock:
    global _GATE
    with _LOCK:
        if _GATE is None or _GATE[0] != os.getpid():
            _GATE = (os.getpid(), threading.Lock())
        return _GATE[1]


@contextmanager
def one_at_a_time(serial: bool) -> Iterator[None]:
    """Within, when `serial`: the only block of this process within `one_at_a_time(True)`
    (the others wait for it, in no particular order)."""
    if not serial:
        yield
        return
    with _gate():
        yield
