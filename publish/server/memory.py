"""The server process's heap: large buffers handed back to the system when freed.

A WMS map of 2048 × 2048 px is a 16 MB image, put together by MapProxy from the rendered tiles
and encoded in the worker. glibc serves such a buffer with mmap and unmaps it when it is freed,
but each time it does it raises its mmap threshold to that size (up to 32 MB), so the next ones
come from the heap and stay there: a worker grew by ~200 MB over six large maps and kept it
(tests/raster/test_memory.py). `keep_large_buffers_mapped` fixes the threshold (mallopt
M_MMAP_THRESHOLD, which turns the adjustment off) so that every buffer of 1 MB or more is mapped
and returned whole, and lowers the trim threshold likewise. A no-op where the C library is not
glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("publish.server")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
LARGE_BUFFER = 1024 * 1024


def keep_large_buffers_mapped(threshold: int = LARGE_BUFFER) -> bool:
    """Set glibc's mmap and trim thresholds to `threshold` bytes; whether it could."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    done = bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, threshold)
    )
    if not done:
        log.warning("could not set the C library's mmap threshold")
    return done
