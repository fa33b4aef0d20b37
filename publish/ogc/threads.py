"""The worker threads the OGC routes run pygeoapi in: as many at once as the process has cores.

pygeoapi's request functions block (SQLite, files), so each OGC request runs in a worker thread.
Through anyio's default limiter up to 40 of them ran at once in one process: with 16 requests in
flight, 16 threads took turns at the GIL (SQLite releases it, Python takes it back, and a waiting
thread forces a switch every 5 ms), and issue 17 measured 4.3 ms of CPU a bbox query at 4 in
flight against 7.0 ms at 16 (1 worker, 1,000,000 parcels). A feature query is mostly Python, so
threads beyond the cores can only queue at the GIL; here the others wait on the event loop, in
order, at no CPU cost. On the 20,000-parcel sample (bench/serve.py --only inflight, a busy
machine) the slowdown did not show (CPU a request at -c16 within 1.0–1.2× of -c4 before); with
the bound, the CPU a request moved within the noise (7 % less to 19 % more between runs) and
the p99 at -c16 was lower in 3 runs of 4 (e.g. 197–410 → 111–166 ms); whether it cures the
1,000,000-parcel figure is still to be measured. The price: a slow request (a large `limit`, a filter
that scans the table) holds one of the few threads while the others queue behind it.
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
