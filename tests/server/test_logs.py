"""The access log's route template comes from the route Starlette chose (a lookup), and names the
same template as matching the path against the route table does."""

from __future__ import annotations

from typing import Any

import pytest

from publish.server.logs import RequestLog, route_templates
from publish.server.metrics import UNMATCHED, route_template
from tests.server.helpers import Probe, TestClient


def request_log(client: TestClient) -> RequestLog:
    client.get("/healthz")  # Starlette builds its middleware stack on the first request
    app: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(app, RequestLog):
        app = app.app
    return app


def test_the_route_of_a_request_is_the_route_the_router_chose(
    client: TestClient,
    probe: Probe,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = request_log(client)
    seen: list[tuple[str, str, bool]] = []
    record = log._record

    def spy(scope: Any, *args: Any) -> None:
        slow = route_template(
            log.routes,
            {"type": "http", "path": scope["path"], "method": scope["method"], "root_path": ""},
        )
        fast = id(scope.get("route")) in log.templates
        seen.append((log.route_of(scope), slow, fast))
        record(scope, *args)

    monkeypatch.setattr(log, "_record", spy)
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
