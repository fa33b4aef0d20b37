"""The OGC worker threads: at most `thread_count()` OGC requests work at once in one process,
the others wait their turn and are answered."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from publish.ogc import routes
from publish.ogc.threads import MIN_THREADS, ogc_executor, run_in_ogc_thread, thread_count
from tests.server.helpers import TestClient


def test_thread_count_is_the_cores_at_least_two() -> None:
    import os

    assert thread_count() == max(MIN_THREADS, len(os.sched_getaffinity(0)))


REQUEST = contextvars.ContextVar[str]("request", default="none")


def test_one_pool_of_threads_per_process_the_callers_context_kept() -> None:
    assert ogc_executor() is ogc_executor()
    assert ogc_executor()._max_workers == thread_count()

    async def call() -> tuple[str, str]:
        REQUEST.set("r1")
        return await run_in_ogc_thread(lambda: (REQUEST.get(), threading.current_thread().name))

    for _ in range(2):  # a new event loop uses the same threads
        seen, thread = asyncio.run(call())
        assert seen == "r1" and thread.startswith("onemap-ogc")


def test_requests_beyond_the_threads_wait_and_are_answered(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = routes._handle
    lock = threading.Lock()
    working, most = 0, 0

    def counted(*args: Any) -> Any:
        nonlocal working, most
        with lock:
            working += 1
            most = max(most, working)
        try:
            time.sleep(0.1)  # long enough that all requests are in flight together
            return handle(*args)
        finally:
            with lock:
                working -= 1

    monkeypatch.setattr(routes, "_handle", counted)
    in_flight = thread_count() * 3
    with ThreadPoolExecutor(in_flight) as pool:
        statuses = list(
            pool.map(
                lambda _: client.get("/ogc/collections/hl/items?limit=2").status_code,
                range(in_flight),
            )
        )
    assert statuses == [200] * in_flight
    assert most == thread_count()
