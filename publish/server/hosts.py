"""Which Host header values the app answers, for the tile fast path (publish.server.fastpath).

The middleware stack refuses a Host that is not configured with Starlette's
TrustedHostMiddleware (a 400: no link is ever built from a client's Host). The fast path answers
ahead of it and must refuse the same requests, so it asks the same middleware, configured the
same way, about each Host value it meets, and remembers the verdict: a tile request then pays
one dictionary lookup. The verdicts kept are bounded (forgotten all at once when full), so a
client sending a new Host every time costs a new verdict each time, never memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Message, Receive, Scope, Send

_ADMITTED = "onemap.host_admitted"  # set in the probe's scope when the middleware lets it pass
_KEPT = 64  # verdicts remembered


async def _admit(scope: Scope, receive: Receive, send: Send) -> None:
    scope[_ADMITTED] = True


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


async def _discard(message: Message) -> None:
    return None


class HostCheck:
    """`await allows(host)`: whether the stack answers a request whose Host header is `host`
    (the raw value, None when the request has none), as TrustedHostMiddleware decides it;
    `verdicts.get(host)`: the same without a call, once it was asked (None before)."""

    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self.allow_any = "*" in allowed_hosts
        self._middleware = TrustedHostMiddleware(
            _admit, allowed_hosts=list(allowed_hosts), www_redirect=False
        )
        self.verdicts: dict[bytes | None, bool] = {}

    async def allows(self, host: bytes | None) -> bool:
        verdict = self.verdicts.get(host)
        if verdict is None:
            verdict = await self._judge(host)
            if len(self.verdicts) >= _KEPT:
                self.verdicts.clear()
            self.verdicts[host] = verdict
        return verdict

    async def _judge(self, host: bytes | None) -> bool:
        probe: Scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [] if host is None else [(b"host", host)],
        }
        await self._middleware(probe, _nothing, _discard)
        return bool(probe.get(_ADMITTED))
