"""The OGC worker threads: at most `thread_count()` OGC requests work at once in one process,
the others wait their turn and are answered."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest

from publish.ogc import routes
from publish.ogc.threads import MIN_THREADS, ogc_limiter, thread_count
from tests.server.helpers import TestClient


def test_thread_count_is_the_cores_at_least_two() -> None:
    import os

    assert thread_count() == max(MIN_THREADS, len(os.sched_getaffinity(0)))


def test_one_limiter_per_event_loop() -> None:
    async def twice() -> tuple[int, int, float]:
        a, b = ogc_limiter(), ogc_limiter()
        return id(a), id(b), a.total_tokens

    first_a, first_b, tokens = anyio.run(twice)
    assert first_a == first_b
    assert tokens == thread_count()
    second_a, _, _ = anyio.run(twice)  # a new loop gets a limiter of its own
    assert second_a != first_a


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
