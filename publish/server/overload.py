"""Overload control for the CPU-heavy requests (site checks, map rendering).

A `WorkQueue` lets `slots` requests of its kind work at once and `waiting` more wait for a slot;
any request beyond those is refused at once with 503 and Retry-After, before its body is read.
So a burst of heavy requests costs bounded CPU (tiles, answered on the event loop, keep their
share) and bounded memory (no unbounded backlog of bodies and worker threads), and a client
learns at once that it should come back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from publish.server.errors import ServerError

RETRY_AFTER_S = 5


class OverloadedError(ServerError):
    status, code = 503, "Overloaded"

    def __init__(self, what: str, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(
            f"too many {what} requests at once; try again in {retry_after_s} s",
            headers={"Retry-After": str(retry_after_s)},
        )


class WorkQueue:
    """At most `slots` requests at work and `waiting` more queued; the rest get 503."""

    def __init__(self, what: str, slots: int, waiting: int) -> None:
        if slots < 1 or waiting < 0:
            raise ValueError(f"a work queue needs slots ≥ 1 and waiting ≥ 0 ({slots}, {waiting})")
        self.what = what
        self.slots = slots
        self.bound = slots + waiting
        self.limiter = anyio.CapacityLimiter(slots)
        self.admitted = 0  # at work or waiting (touched only on the event loop)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the slots (waiting for it) or raise OverloadedError at once."""
        if self.admitted >= self.bound:
            raise OverloadedError(self.what)
        self.admitted += 1
        try:
            async with self.limiter:
                yield
        finally:
            self.admitted -= 1
