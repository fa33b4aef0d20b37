"""The OGC worker threads: at most `thread_count()` OGC requests work at once in one process,
the others wait their turn and are answered; a GeoPackage service's requests one at a time."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from publish.ogc import routes
from publish.ogc.config import FEATURE_PROVIDER
from publish.ogc.postgis import POSTGRESQL_PROVIDER
from publish.ogc.service import OgcService
from publish.ogc.threads import (
    MIN_THREADS,
    ogc_executor,
    one_at_a_time,
    run_in_ogc_thread,
    thread_count,
)
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


class _AtOnce:
    """`function` called through it, each call held `pause` seconds first (long enough that all
    callers are in flight together), and the most calls that were working at once."""

    def __init__(self, function: Any, pause: float) -> None:
        self.function, self.pause = function, pause
        self.lock = threading.Lock()
        self.working = self.most = 0

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            self.working += 1
            self.most = max(self.most, self.working)
        try:
            time.sleep(self.pause)
            return self.function(*args)
        finally:
            with self.lock:
                self.working -= 1


def _items_at_once(client: TestClient, in_flight: int) -> None:
    with ThreadPoolExecutor(in_flight) as pool:
        statuses = list(
            pool.map(
                lambda _: client.get("/ogc/collections/hl/items?limit=2").status_code,
                range(in_flight),
            )
        )
    assert statuses == [200] * in_flight


@pytest.mark.parametrize(
    ("step", "in_flight", "most"),
    [
        ("_handle", thread_count() * 3, thread_count()),  # beyond the threads: they wait
        ("_answer", thread_count() * 2, 1),  # a GeoPackage service: one at a time
    ],
)
def test_requests_in_flight_wait_their_turn_and_are_answered(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, step: str, in_flight: int, most: int
) -> None:
    counted = _AtOnce(getattr(routes, step), 0.1)
    monkeypatch.setattr(routes, step, counted)
    _items_at_once(client, in_flight)
    assert counted.most == most


def _most_at_once(serial: bool, callers: int = 3) -> int:
    def work() -> None:
        with one_at_a_time(serial):
            counted()

    counted = _AtOnce(lambda: None, 0.05)
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(lambda _: work(), range(callers)))
    return counted.most


def test_serial_blocks_work_one_at_a_time_the_others_together() -> None:
    assert _most_at_once(True) == 1
    assert _most_at_once(False) == 3


def _service(*providers: str | None) -> OgcService:
    resources: dict[str, Any] = {
        f"c{i}": {
            "type": "collection",
            "providers": [] if name is None else [{"type": "feature", "name": name}],
        }
        for i, name in enumerate(providers)
    }
    return OgcService({"resources": resources})


def test_only_a_service_wholly_on_geopackages_is_serial() -> None:
    assert _service(FEATURE_PROVIDER, None).serial
    assert not _service(FEATURE_PROVIDER, POSTGRESQL_PROVIDER).serial  # waits on PostgreSQL
    assert not _service("PostgreSQL").serial
