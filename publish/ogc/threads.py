"""The worker threads the OGC routes run pygeoapi in: as many at once as the process has cores.

pygeoapi's request functions block (SQLite, files), so each OGC request runs in a worker thread.
Through anyio's default limiter up to 40 of them ran at once in one process, so with 16 requests
in flight 16 threads took turns at the GIL (SQLite releases it, Python takes it back), and every
hand-over (a futex wake-up, a context switch, another thread's cold caches) cost CPU that did no
work: issue 17 measured 4.3 ms of CPU a bbox query at 4 in flight and 7.0 ms at 16 (1 worker,
1,000,000 parcels). A feature query is mostly Python, so threads beyond the cores could only
queue at the GIL; here the others wait on the event loop, at no CPU cost, and are answered in
turn (bench/serve.py --only inflight compares).
"""

from __future__ import annotations

import os

import anyio
from anyio.lowlevel import RunVar

MIN_THREADS = 2  # one in SQLite (the GIL released) while another formats an answer

_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("onemap_ogc_limiter")


def thread_count() -> int:
    """How many OGC requests work at once in one process: the cores it may run on (at least 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(MIN_THREADS, cores)


def ogc_limiter() -> anyio.CapacityLimiter:
    """This event loop's limiter for the OGC worker threads (one per loop, made on first use)."""
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(thread_count())
        _LIMITER.set(limiter)
        return limiter
