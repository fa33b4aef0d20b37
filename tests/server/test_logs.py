"""The access log's route template comes from the route Starlette chose (a lookup), and names the
same template as matching the path against the route table does."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from publish.server.fastpath import TILE_ROUTE
from publish.server.logs import (
    ACCESS_LOGGER,
    AccessRecorder,
    BufferedStreamHandler,
    JsonFormatter,
    RequestLog,
    route_templates,
)
from publish.server.metrics import UNMATCHED, route_template
from tests.server.helpers import Probe, TestClient


def recorder(client: TestClient) -> AccessRecorder:
    client.get("/healthz")  # Starlette builds its middleware stack on the first request
    app: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(app, RequestLog):
        app = app.app
    found: AccessRecorder = app.recorder
    return found


def test_the_route_of_a_request_is_the_route_the_router_chose(
    client: TestClient,
    probe: Probe,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = recorder(client)
    seen: list[tuple[str, str, bool]] = []
    record = log.record

    def spy(scope: Any, *args: Any) -> None:
        slow = route_template(
            log.routes,
            {"type": "http", "path": scope["path"], "method": scope["method"], "root_path": ""},
        )
        fast = id(scope.get("route")) in log.templates
        # the tile fast path names its route itself (args[4]); the router never saw it
        route = args[4] if len(args) > 4 else log.route_of(scope)
        seen.append((route, slow, fast or route == TILE_ROUTE))
        record(scope, *args)

    monkeypatch.setattr(log, "record", spy)
    z, x, y = probe.public
    requests = [
        ("GET", f"/tiles/public/{z}/{x}/{y}.mvt", {}, "/tiles/{audience}/{z}/{x}/{name}", True),
        ("GET", "/ogc/collections/hl/items", {}, "/ogc/collections/{collection_id}/items", True),
        ("GET", "/ogc/static/css/default.css", {}, None, True),
        ("GET", "/ogc", {}, "/ogc", True),
        ("POST", "/healthz", {}, "/healthz", True),  # 405: the route whose path matched
        ("GET", "/ogc/no/such/thing", {}, "/ogc/{path}", True),  # the mount, nothing inside
        ("GET", "/no/such/path", {}, UNMATCHED, False),
        ("GET", "/tiles/internal.json", {}, "/tiles/{audience}.json", False),  # 401, unrouted
        # admitted internal requests: the guard copies the scope, so the table is matched
        ("GET", "/internal/ogc/collections", auth, "/internal/ogc/collections", False),
    ]
    for method, path, headers, _, _ in requests:
        client.request(method, path, headers=headers, follow_redirects=False)
    assert len(seen) == len(requests)
    for (method, path, _, template, fast), (got, slow, was_fast) in zip(
        requests, seen, strict=True
    ):
        assert got == slow, (method, path)
        assert template is None or got == template, (method, path)
        assert was_fast is fast, (method, path)


def test_route_templates_join_mounts_and_skip_shared_routes() -> None:
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    async def endpoint(request: Any) -> Response:  # never called
        raise AssertionError

    shared = Route("/x", endpoint)
    inner = Route("/collections/{cid}", endpoint)
    mount = Mount("/ogc", routes=[inner, shared])
    table = [Route("/healthz", endpoint), mount, Mount("/other", routes=[shared])]
    templates = route_templates(table)
    assert templates[id(table[0])] == "/healthz"
    assert templates[id(mount)] == "/ogc/{path}"
    assert templates[id(inner)] == "/ogc/collections/{cid}"
    assert id(shared) not in templates


def served_access_log(monkeypatch: pytest.MonkeyPatch) -> tuple[io.StringIO, BufferedStreamHandler]:
    """The access logger set up as `log_config` sets it up (one line a batch), into a string."""
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, capacity=1)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "level", logging.INFO)
    logger.manager._clear_cache()  # type: ignore[attr-defined]
    return stream, handler


@pytest.mark.parametrize(
    ("path", "client_address", "seconds"),
    [
        ("/tiles/public/12/3300/1700.mvt", ("127.0.0.1", 50000), 0.0012345),
        ('/odd/"quoted"\\/路径/\u2028', None, 1.5),
        ("/ogc/collections", ("::1", 1), 0.0),
        ("/ctl/\x01\x1f\x7f/\t\n/😀", ("10.0.0.1", 2), 123456.789012),
        ("/tiny", None, 1e-9),
    ],
)
def test_direct_access_lines_are_the_formatter_s_lines(
    path: str,
    client_address: tuple[str, int] | None,
    seconds: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recorder writes its line itself when the access logger is set up as `log_config` sets
    it up; the text must be the JsonFormatter's, byte for byte but the time."""
    import json
    import re

    stream, handler = served_access_log(monkeypatch)
    from publish.server import logs

    made: list[str] = []

    def spy(*args: Any) -> str:
        made.append(logs_access_line(*args))
        return made[-1]

    logs_access_line = logs.access_line
    monkeypatch.setattr(logs, "access_line", spy)
    recorder = AccessRecorder([], None)
    method = "HEAD" if client_address is None else "GET"
    scope = {"type": "http", "method": method, "path": path, "client": client_address}
    recorder.record(scope, "rid-1", 200, 12345, seconds, "/route/{x}")
    assert made == [] and stream.getvalue() == ""  # kept with the request's values
    recorder.flush()
    assert len(made) == 1  # written directly
    handler.addFilter(lambda record: True)  # a filter: the recorder goes through a LogRecord
    recorder.record(scope, "rid-1", 200, 12345, seconds, "/route/{x}")
    assert len(made) == 1  # through a LogRecord and the formatter, at once
    direct, via_record = stream.getvalue().rstrip("\n").split("\n")  # U+2028 is in a line
    no_time = re.compile(r'^\{"time": "[^"]+"')
    assert no_time.sub("", direct) == no_time.sub("", via_record)
    doc = json.loads(direct)
    assert doc["path"] == path and doc["duration_ms"] == round(seconds * 1000, 3)
    assert doc["client"] == (client_address[0] if client_address else None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["time"])


def test_the_time_text_is_the_millisecond_of_each_record() -> None:
    """The text is made once a millisecond and reused: each call still names its own
    millisecond, the clock going back included."""
    from datetime import UTC, datetime

    from publish.server.logs import JsonFormatter

    formatter = JsonFormatter()
    for created in (1764900000.0, 1764900000.0004, 1764900000.25, 1764900000.2504, 1764900001.75,
                    1764899999.125, 1764899999.125, 1764900000.0):  # fmt: skip
        want = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        assert formatter._time(created) == want


def test_requests_are_counted_and_logged_in_batches_with_their_own_times(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set up as served, the recorder keeps finished requests; their counts and lines (each
    with its request's time) appear at a metrics read (scrape or the lifespan's tick) or when
    BATCH of them wait."""
    import json

    from publish.server import logs
    from publish.server.holder import ReleaseHolder
    from publish.server.logs import BATCH
    from publish.server.metrics import Metrics
    from publish.server.tilecache import TileCache

    stream, _ = served_access_log(monkeypatch)
    metrics = Metrics(TileCache(1024), ReleaseHolder(tmp_path))
    recorder = AccessRecorder([], metrics)
    line = 'onemap_http_requests_total{method="GET",route="/r",status="200"}'

    def counted() -> float:
        found = [x for x in metrics.render().decode().splitlines() if x.startswith(line)]
        return float(found[0].split()[-1]) if found else 0.0

    for i, now in enumerate((1764900000.25, 1764900001.5, 1764900002.75)):
        monkeypatch.setattr(logs.time, "time", lambda now=now: now)
        recorder.record(
            {"method": "GET", "path": f"/p{i}", "client": None}, f"id{i}", 200, 1, 0.001, "/r"
        )
    assert stream.getvalue() == ""  # kept
    assert counted() == 3  # a scrape counts them, and hands their lines to the handler
    docs = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [(d["path"], d["time"]) for d in docs] == [
        ("/p0", "2025-12-05T02:00:00.250Z"),
        ("/p1", "2025-12-05T02:00:01.500Z"),
        ("/p2", "2025-12-05T02:00:02.750Z"),
    ]
    for _ in range(BATCH):
        recorder.record(
            {"method": "GET", "path": "/q", "client": ("10.0.0.1", 1)}, "x", 200, 1, 0.1, "/r"
        )
    assert len(stream.getvalue().splitlines()) == 3 + BATCH  # the BATCH-th wrote them
    assert counted() == 3 + BATCH
