"""The tile fast path answers cached tiles ahead of the middleware stack and the router; what it
sends must be what the stack would have sent, and what it cannot answer must reach the stack."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from publish.server.fastpath import TILE_ROUTE, TileFastPath
from publish.server.logs import AccessRecorder
from tests.server.helpers import Probe, TestClient

ORIGIN = "https://map.example.gov.cn"


def fast_path(client: TestClient) -> TileFastPath:
    client.get("/healthz")  # Starlette builds its middleware stack on the first request
    app: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(app, TileFastPath):
        app = app.app
    return app


def stack_only(client: TestClient) -> TestClient:
    """A client for the same app with the fast path taken out (no lifespan: the app's runs)."""
    rest = fast_path(client).app
    app = client.app

    async def without_fast_path(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app  # what Starlette itself sets before its middleware
        await rest(scope, receive, send)

    return TestClient(without_fast_path)


def tile_path(audience: str, zxy: tuple[int, int, int], ext: str = "mvt") -> str:
    z, x, y = zxy
    return f"/tiles/{audience}/{z}/{x}/{y}.{ext}"


def answered_fast(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that gets, for each request reaching the fast path, whether it answered it."""
    fast = fast_path(client)
    seen: list[bool] = []
    answer = fast._answer

    async def spy(scope: Scope, send: Send) -> bool:
        seen.append(await answer(scope, send))
        return seen[-1]

    monkeypatch.setattr(fast, "_answer", spy)
    return seen


def test_fast_answers_are_the_stack_s_answers(
    client: TestClient, probe: Probe, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = stack_only(client)
    seen = answered_fast(client, monkeypatch)
    etag = client.get(tile_path("public", probe.public)).headers["etag"]
    seen.clear()
    rid = {"X-Request-ID": "same-id-1"}
    cases = [
        ("GET", tile_path("public", probe.public), {}),
        ("HEAD", tile_path("public", probe.public), {}),
        ("GET", tile_path("public", probe.public, "pbf"), {"Origin": ORIGIN}),
        ("GET", tile_path("public", probe.public), {"Origin": "https://evil.test"}),
        ("GET", tile_path("public", probe.public), {"If-None-Match": etag}),
        ("GET", tile_path("public", probe.public), {"If-None-Match": '"other", ' + etag}),
        ("GET", tile_path("public", probe.empty), {"Origin": ORIGIN}),
        ("GET", tile_path("internal", probe.internal_only), auth),
        ("GET", tile_path("internal", probe.internal_only), {"Authorization": "Basic Og=="}),
    ]
    for method, path, headers in cases:
        fast = client.request(method, path, headers={**headers, **rid})
        stack = slow.request(method, path, headers={**headers, **rid})
        assert fast.status_code == stack.status_code, (method, path, headers)
        assert fast.content == stack.content, (method, path)
        assert dict(fast.headers) == dict(stack.headers), (method, path, headers)
    # all answered by the fast path but the wrong credentials (those went on to the guard: 401)
    assert seen == [True] * (len(cases) - 1) + [False]
    assert client.get(tile_path("internal", probe.internal_only)).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/tiles/public/3/9/1.mvt", {}, 400),  # x ≥ 2^z
        ("GET", "/tiles/public/a/1/1.mvt", {}, 400),
        ("GET", "/tiles/public/1/1/1.png", {}, 400),
        ("GET", "/tiles/public/0/0/0/extra.mvt", {}, 404),
        ("GET", "/tiles/public/1/0/0.mvt", {}, 404),  # above the archive's zooms
        ("GET", "/tiles/nobody/8/1/1.mvt", {}, 404),
        ("GET", "/tiles/internal/8/1/1.mvt", {}, 401),
        ("POST", "/tiles/public/8/1/1.mvt", {}, 405),
        (
            "OPTIONS",
            "/tiles/public/8/1/1.mvt",
            {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
            200,
        ),
    ],
)
def test_what_the_fast_path_cannot_answer_reaches_the_stack(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    seen = answered_fast(client, monkeypatch)
    recorded: list[tuple[Any, ...]] = []
    recorder: AccessRecorder = fast_path(client).recorder
    record = recorder.record

    def spy(scope: Scope, *args: Any) -> None:
        recorded.append(args)
        record(scope, *args)

    monkeypatch.setattr(recorder, "record", spy)
    r = client.request(method, path, headers=headers)
    assert r.status_code == status
    assert r.headers["x-request-id"]
    if status != 200:
        assert r.json()["code"]  # the stack's JSON error, not a bare status
    assert True not in seen  # nothing answered by the fast path
    (args,) = recorded  # one access line and one count: the RequestLog's
    assert args[1] == status and (len(args) < 5 or args[4] != TILE_ROUTE)


def test_fast_answers_are_logged_and_counted_like_others(
    client: TestClient, probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = answered_fast(client, monkeypatch)
    before = client.get("/metrics").text
    for _ in range(3):
        client.get(tile_path("public", probe.public), headers={"X-Request-ID": "abc-1"})
    after = client.get("/metrics").text
    assert seen == [True, True, True]
    line = f'onemap_http_requests_total{{method="GET",route="{TILE_ROUTE}",status="200"}}'

    def count(text: str) -> float:
        found = [x for x in text.splitlines() if x.startswith(line)]
        return float(found[0].split()[-1]) if found else 0.0

    assert count(after) - count(before) == 3
