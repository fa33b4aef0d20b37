"""The tile fast path answers cached tiles ahead of the middleware stack and the router; what it
sends must be what the stack would have sent, and what it cannot answer must reach the stack."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from publish.server.fastpath import RELEASE_TILE_ROUTE, TILE_ROUTE, TileFastPath
from publish.server.logs import AccessRecorder
from publish.server.settings import Settings
from tests.server.helpers import Built, Probe, TestClient, make_client

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
    """A list that gets, for each request the fast path looks at (GET or HEAD under /tiles/ or
    /releases/), whether it answered it (else it passed it on to the stack)."""
    fast = fast_path(client)
    seen: list[bool] = []
    passed: list[str] = []
    rest = fast.app

    async def pass_on(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(scope["path"])
        await rest(scope, receive, send)

    async def entry(scope: Scope, receive: Receive, send: Send) -> None:
        looked_at = (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith(("/tiles/", "/releases/"))
        )
        before = len(passed)
        await fast(scope, receive, send)
        if looked_at:
            seen.append(len(passed) == before)

    entry.app = fast  # type: ignore[attr-defined]  # for `fast_path`
    monkeypatch.setattr(fast, "app", pass_on)
    monkeypatch.setattr(client.app, "middleware_stack", entry)
    return seen


def records(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """A list that gets the arguments (after the scope) of each access line and count."""
    recorded: list[tuple[Any, ...]] = []
    recorder: AccessRecorder = fast_path(client).recorder
    record = recorder.record

    def spy(scope: Scope, *args: Any) -> None:
        recorded.append(args)
        record(scope, *args)

    monkeypatch.setattr(recorder, "record", spy)
    return recorded


def test_fast_answers_are_the_stack_s_answers(
    client: TestClient, probe: Probe, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = stack_only(client)
    seen = answered_fast(client, monkeypatch)
    etag = client.get(tile_path("public", probe.public)).headers["etag"]
    seen.clear()
    public = tile_path("public", probe.public)
    internal = tile_path("internal", probe.internal_only)
    bearer = auth["Authorization"]
    cases: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("GET", public, []),
        ("HEAD", public, []),
        ("GET", tile_path("public", probe.public, "pbf"), [("Origin", ORIGIN)]),
        ("GET", public, [("Origin", "https://evil.test")]),
        ("GET", public, [("If-None-Match", etag)]),
        ("GET", public, [("If-None-Match", '"other", ' + etag)]),
        ("GET", public, [("If-None-Match", '"nope"'), ("If-None-Match", etag)]),  # the first
        ("GET", public, [("X-Request-ID", "bad id!")]),  # not sane: a new one (differs)
        ("GET", tile_path("public", probe.empty), [("Origin", ORIGIN)]),
        ("GET", internal, [("Authorization", bearer)]),
        ("GET", internal, [("Authorization", bearer), ("Authorization", "Bearer bogus")]),
        ("GET", "/tiles/public/3/9/1.mvt", []),  # 400: x ≥ 2^z
        ("GET", "/tiles/public/a/1/1.mvt", [("Origin", ORIGIN)]),  # 400
        ("GET", "/tiles/public/1/1/1.png", []),  # 400
        ("HEAD", "/tiles/public/1/0/0.mvt", []),  # 404: above the archive's zooms
        ("GET", tile_path("public", (probe.maxzoom, 0, 0)), []),  # 404: outside the bounds
        # not answered by the fast path (the guard's 401s)
        ("GET", internal, [("Authorization", "Bearer bogus"), ("Authorization", bearer)]),
        ("GET", internal, [("Authorization", "Basic Og==")]),
    ]
    for method, path, headers in cases:
        given = [*headers, ("X-Request-ID", "same-id-1")]
        if any(k == "X-Request-ID" for k, _ in headers):
            given = headers
        fast = client.request(method, path, headers=given)
        stack = slow.request(method, path, headers=given)
        assert fast.status_code == stack.status_code, (method, path, headers)
        assert fast.content == stack.content, (method, path)
        a, b = dict(fast.headers), dict(stack.headers)
        if given is headers:  # a request id of each server's own
            assert a.pop("x-request-id") != b.pop("x-request-id")
        assert a == b, (method, path, headers)
    assert seen == [True] * (len(cases) - 2) + [False, False]
    assert client.get(internal).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/tiles/public/0/0/0/extra.mvt", {}, 404),
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
    recorded = records(client, monkeypatch)
    r = client.request(method, path, headers=headers)
    assert r.status_code == status
    assert r.headers["x-request-id"]
    if status != 200:
        assert r.json()["code"]  # the stack's JSON error, not a bare status
    # one access line and one count, by the RequestLog: the fast path names its route itself
    (args,) = recorded
    assert args[1] == status and len(args) == 4


def test_an_unexpected_error_is_answered_logged_and_counted_by_the_stack(
    client: TestClient, probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = records(client, monkeypatch)

    def broken(*args: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(client.app.state.server.tile_cache, "get", broken)  # type: ignore[attr-defined]
    # the same app (its lifespan ran), answering errors as a server does instead of raising them
    quiet = TestClient(client.app, raise_server_exceptions=False)
    r = quiet.get(tile_path("public", probe.public))
    assert r.status_code == 500
    assert r.json() == {
        "code": "InternalError",
        "type": "InternalError",
        "description": "internal error",
    }
    (args,) = recorded
    assert args[1] == 500


def test_a_tile_lookup_is_counted_once(client: TestClient, probe: Probe) -> None:
    cache = client.app.state.server.tile_cache  # type: ignore[attr-defined]
    for path, status in [
        (tile_path("public", (probe.maxzoom, 0, 0)), 404),
        (tile_path("public", probe.empty), 204),
        (tile_path("public", probe.public), 200),
        (tile_path("public", probe.public), 200),
    ]:
        before = cache.hits + cache.misses
        assert client.get(path).status_code == status
        assert cache.hits + cache.misses == before + 1, path


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


def test_versioned_tiles_are_answered_fast_as_the_stack_would(
    client: TestClient,
    built_releases: Built,
    probe: Probe,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The URLs the TileJSON names (/releases/<id>/tiles/…): the current release's and a kept
    one's once open are answered by the fast path, with the stack's answer; a release still to
    be loaded, or not kept, goes to the stack, which loads it or answers 404."""
    current, kept = built_releases.first, built_releases.second
    slow = stack_only(client)
    recorded = records(client, monkeypatch)
    seen = answered_fast(client, monkeypatch)
    z, x, y = probe.public
    iz, ix, iy = probe.internal_only
    ez, ex, ey = probe.empty
    bearer = [("Authorization", auth["Authorization"])]
    cases: list[tuple[str, list[tuple[str, str]], bool]] = [
        (f"/releases/{current}/tiles/public/{z}/{x}/{y}.mvt", [], True),
        (f"/releases/{current}/tiles/public/{z}/{x}/{y}.pbf", [("Origin", ORIGIN)], True),
        (f"/releases/{current}/tiles/public/{ez}/{ex}/{ey}.mvt", [], True),  # 204
        (f"/releases/{current}/tiles/public/3/9/1.mvt", [], True),  # 400
        (f"/releases/{current}/tiles/internal/{iz}/{ix}/{iy}.mvt", bearer, True),
        (f"/releases/{current}/tiles/internal/{iz}/{ix}/{iy}.mvt", [], False),  # 401
        (f"/releases/{kept}/tiles/public/{z}/{x}/{y}.mvt", [], False),  # loaded by the stack
        (f"/releases/{kept}/tiles/public/{z}/{x}/{y}.mvt", [], True),  # now held open
        (f"/releases/{kept}/tiles/internal/{iz}/{ix}/{iy}.mvt", bearer, True),
        ("/releases/20200101T000000Z-deadbeef/tiles/public/1/0/0.mvt", [], False),  # 404
        (f"/releases/{current}/diff/public/{z}/{x}/{y}.mvt", [], False),  # not a tile route
    ]
    for path, headers, fast in cases:
        given = [*headers, ("X-Request-ID", "same-id-2")]
        seen.clear()
        recorded.clear()
        answer = client.get(path, headers=given)
        assert seen == [fast], path
        if fast:
            (args,) = recorded
            assert args[-1] == RELEASE_TILE_ROUTE, path
        stack = slow.get(path, headers=given)
        assert answer.status_code == stack.status_code, path
        assert answer.content == stack.content, path
        assert dict(answer.headers) == dict(stack.headers), path


def test_a_host_the_app_does_not_answer_is_refused_as_elsewhere(
    client: TestClient, probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tile asked with a foreign Host (or none) goes to the stack, whose Host check answers
    400, as for every other path; the hosts the app answers are answered fast."""
    slow = stack_only(client)
    seen = answered_fast(client, monkeypatch)
    recorded = records(client, monkeypatch)
    path = tile_path("public", probe.public)
    for host, fast, status in [
        ("evil.example", False, 400),
        ("localhost:8000", True, 200),
        ("127.0.0.1.evil.example", False, 400),
        ("LOCALHOST", True, 200),
        ("evil.example", False, 400),  # its verdict remembered
    ]:
        seen.clear()
        recorded.clear()
        given = {"Host": host, "X-Request-ID": "same-id-3"}
        answer = client.get(path, headers=given)
        assert seen == [fast] and answer.status_code == status, host
        (args,) = recorded  # logged and counted once, by whichever answered
        assert args[1] == status, host
        stack = slow.get(path, headers=given)
        assert (answer.status_code, answer.content) == (stack.status_code, stack.content), host
        assert dict(answer.headers) == dict(stack.headers), host


@pytest.mark.parametrize(
    ("trusted", "logged"),
    [
        (("testclient",), ["203.0.113.9", "203.0.113.9"]),  # the TestClient's own address
        (("10.1.2.3",), ["testclient", "testclient"]),  # an address the proxies are not
        ((), ["testclient", "testclient"]),  # no proxy trusted
    ],
)
def test_a_fast_answer_names_the_client_the_stack_would(
    settings: Settings,
    probe: Probe,
    monkeypatch: pytest.MonkeyPatch,
    trusted: tuple[str, ...],
    logged: list[str],
) -> None:
    """X-Forwarded-For is taken from the trusted proxies only, for a tile answered fast as for
    one answered by the stack (a tile asked with a token it does not need to see)."""
    with make_client(replace(settings, trusted_proxies=trusted)) as client:
        slow = stack_only(client)
        seen = answered_fast(client, monkeypatch)
        recorder = fast_path(client).recorder
        record = recorder.record
        clients: list[str] = []

        def spy(scope: Scope, *args: Any) -> None:
            clients.append(scope["client"][0])
            record(scope, *args)

        monkeypatch.setattr(recorder, "record", spy)
        forwarded = {"X-Forwarded-For": "198.51.100.4, 203.0.113.9"}
        path = tile_path("public", probe.public)
        assert client.get(path, headers=forwarded).status_code == 200
        assert slow.get(path, headers=forwarded).status_code == 200
    assert seen == [True] and clients == logged
