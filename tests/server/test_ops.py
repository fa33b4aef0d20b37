"""Operations: /metrics (Prometheus), JSON access logs with a request id, gzip for documents."""

from __future__ import annotations

import gzip
import json
import logging
import logging.config
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from publish.server.logs import ACCESS_LOGGER, JsonFormatter, log_config, request_id_from
from publish.server.metrics import UNMATCHED, route_template
from publish.server.settings import Settings
from tests.server.helpers import Built, Probe, TestClient, decode, make_client
from tests.server.test_uvicorn import serve

TILE_ROUTE = "/tiles/{audience}/{z}/{x}/{name}"


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def requests_of(metrics: dict, route: str, status: str, method: str = "GET") -> float:
    key = (
        "onemap_http_requests_total",
        (("method", method), ("route", route), ("status", status)),
    )
    return metrics.get(key, 0.0)


# -- /metrics ---------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template(
    client: TestClient, probe: Probe, built_releases: Built
) -> None:
    z, x, y = probe.public
    for _ in range(3):
        assert client.get(f"/tiles/public/{z}/{x}/{y}.mvt").status_code == 200
    assert client.get("/tiles/public/40/1/1.mvt").status_code == 404
    assert client.get("/no/such/path/1").status_code == 404
    assert client.get("/no/such/path/2").status_code == 404
    assert client.post("/healthz").status_code == 405
    assert client.get("/ogc/collections/stbhhx").status_code == 200

    m = samples(client)
    assert requests_of(m, TILE_ROUTE, "200") == 3
    assert requests_of(m, TILE_ROUTE, "404") == 1
    assert requests_of(m, UNMATCHED, "404") == 2  # raw paths never become labels
    assert requests_of(m, "/healthz", "405", "POST") == 1
    assert requests_of(m, "/ogc/collections/{collection_id}", "200") == 1
    assert not any("/no/such" in str(labels) for _, labels in m)
    # the latency histogram: one observation per request of the route
    count = m[("onemap_http_request_duration_seconds_count", (("route", TILE_ROUTE),))]
    assert count == 4
    inf = ("onemap_http_request_duration_seconds_bucket", (("le", "+Inf"), ("route", TILE_ROUTE)))
    assert m[inf] == 4
    # the release served
    assert m[("onemap_release_info", (("release", built_releases.first),))] == 1
    assert m[("onemap_release_last_load_failed", ())] == 0
    assert m[("onemap_release_loaded_timestamp_seconds", ())] > 1.7e9


def test_metrics_count_tile_cache_hits_and_misses(client: TestClient, probe: Probe) -> None:
    before = samples(client)
    z, x, y = probe.public
    for _ in range(4):
        client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
    after = samples(client)

    def delta(name: str) -> float:
        return after[(name, ())] - before[(name, ())]

    assert delta("onemap_tile_cache_misses_total") == 1
    assert delta("onemap_tile_cache_hits_total") == 3
    assert after[("onemap_tile_cache_entries", ())] >= 1
    assert after[("onemap_tile_cache_bytes", ())] > 0
    assert after[("onemap_tile_cache_max_bytes", ())] == 4 * 1024 * 1024


def test_each_app_has_its_own_registry(settings: Settings, probe: Probe) -> None:
    z, x, y = probe.public
    with make_client(settings) as first:
        first.get(f"/tiles/public/{z}/{x}/{y}.mvt")
        with make_client(settings) as second:
            assert requests_of(samples(second), TILE_ROUTE, "200") == 0
        assert requests_of(samples(first), TILE_ROUTE, "200") == 1


def test_counted_requests_scrape_as_prometheus_observe_gives_them() -> None:
    """Requests are counted in plain numbers and added at the next sync (or scrape): the text is
    what prometheus_client's own counter and histogram give for the same requests, latencies on
    the buckets' bounds, above the last and an unlisted method included."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    from publish.server.holder import ReleaseHolder
    from publish.server.metrics import LATENCY_BUCKETS, Metrics
    from publish.server.tilecache import TileCache

    holder = ReleaseHolder(Path("/nonexistent"))  # never loads: the gauges are not compared
    metrics = Metrics(TileCache(0), holder)
    registry = CollectorRegistry()
    requests = Counter("onemap_http_requests", "", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "onemap_http_request_duration_seconds", "", ["route"], buckets=LATENCY_BUCKETS,
        registry=registry,
    )  # fmt: skip
    asked = [("GET", "/a", 200, s) for s in (0.0, 0.0005, 0.0004, 0.001, 0.3, 5.0, 99.0)]
    asked += [("HEAD", "/a", 304, 0.002), ("GET", "/b", 404, 0.01), ("BREW", "/a", 405, 0.0)]
    for method, route, status, seconds in asked:
        metrics.observe(method, route, status, seconds)
        label = method if method != "BREW" else "other"
        requests.labels(label, route, str(status)).inc()
        latency.labels(route).observe(seconds)

    def lines(text: bytes) -> list[str]:
        return sorted(
            line
            for line in text.decode().splitlines()
            if line.startswith(("onemap_http_requests_total", "onemap_http_request_duration"))
            and "_created" not in line  # when each series was made
        )

    want = lines(generate_latest(registry))
    assert len(want) == 4 + 2 * (len(LATENCY_BUCKETS) + 3)  # +Inf, _count, _sum
    assert lines(metrics.render()) == want
    metrics.sync()  # nothing new: nothing added twice
    assert lines(metrics.render()) == want


def test_route_template_joins_mounts_and_reports_405_and_unknown() -> None:
    async def endpoint(request: Request) -> Response:  # never called
        raise AssertionError

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:  # never called
        raise AssertionError

    routes = [
        Route("/healthz", endpoint, methods=["GET"]),
        Mount("/ogc", routes=[Route("/collections/{cid}", endpoint, methods=["GET"])]),
        Mount("/static", app=asgi),
    ]

    def template(path: str, method: str = "GET") -> str:
        return route_template(routes, {"type": "http", "path": path, "method": method})

    assert template("/healthz") == "/healthz"
    assert template("/healthz", "POST") == "/healthz"
    assert template("/ogc/collections/spxm") == "/ogc/collections/{cid}"
    assert template("/ogc/nothing") == "/ogc/{path}"
    assert template("/static/a/b.css") == "/static/{path}"
    assert template("/elsewhere") == UNMATCHED


# -- request ids and the access log -----------------------------------------------------------


def access_records(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == ACCESS_LOGGER]  # type: ignore[attr-defined]


def test_one_access_line_per_request_with_its_request_id(
    client: TestClient, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    z, x, y = probe.public
    given = client.get(f"/tiles/public/{z}/{x}/{y}.mvt", headers={"X-Request-ID": "abc-123.x"})
    assert given.headers["x-request-id"] == "abc-123.x"
    made = client.get("/ogc/collections/hl/items?limit=1")
    assert len(made.headers["x-request-id"]) == 22  # 12 hex of the worker, 10 of a counter
    insane = client.get("/healthz", headers={"X-Request-ID": "x" * 65})
    assert insane.headers["x-request-id"] != "x" * 65

    records = access_records(caplog)
    assert len(records) == 3
    tile, items, health = records
    assert tile["request_id"] == "abc-123.x"
    assert tile["method"] == "GET" and tile["status"] == 200
    assert tile["route"] == TILE_ROUTE and tile["path"] == f"/tiles/public/{z}/{x}/{y}.mvt"
    assert tile["bytes"] == len(given.content) or tile["bytes"] == int(
        given.headers["content-length"]
    )
    assert 0 <= tile["duration_ms"] < 5000
    assert items["request_id"] == made.headers["x-request-id"]
    assert items["route"] == "/ogc/collections/{collection_id}/items"
    assert items["path"] == "/ogc/collections/hl/items"  # no query string
    assert health["request_id"] == insane.headers["x-request-id"]


def test_401_responses_are_logged_and_carry_a_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    r = client.get("/tiles/internal.json", headers={"X-Request-ID": "r1"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "r1"
    (record,) = access_records(caplog)
    assert (record["status"], record["route"]) == (401, "/tiles/{audience}.json")


def test_tokens_never_reach_the_access_log(
    client: TestClient, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler_output = []
    formatter = JsonFormatter()
    client.get("/internal/ogc/collections", headers={"Authorization": f"Bearer {token}"})
    client.get(f"/ogc/collections?token={token}&access_token={token}")
    client.get(f"/tiles/public.json?key={token}", headers={"Authorization": f"Basic {token}"})
    for record in caplog.records:
        if not record.name.startswith(("httpx", "httpcore")):  # the test's client, not the server
            handler_output.append(formatter.format(record))
    text = "\n".join(handler_output)
    assert len(access_records(caplog)) == 3
    assert token not in text
    assert "Bearer" not in text and "Basic" not in text


def test_request_ids_are_kept_only_when_sane() -> None:
    assert request_id_from("2f1c-ab.9:x_Y") == "2f1c-ab.9:x_Y"
    for bad in (None, "", "a b", "a\nb", "é", "x" * 65, "-leading", '{"json":1}'):
        made = request_id_from(bad)
        assert len(made) == 32 and all(c in "0123456789abcdef" for c in made), bad


def test_json_formatter_writes_one_object_per_line() -> None:
    record = logging.LogRecord(
        "publish.server", logging.ERROR, __file__, 1, "加载 %s", ("x",), None
    )
    record.fields = {"request_id": "r", "status": 500}
    line = JsonFormatter().format(record)
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["message"] == "加载 x" and doc["level"] == "ERROR"
    assert doc["request_id"] == "r" and doc["status"] == 500
    assert doc["time"].endswith("Z")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    doc = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in doc["exception"]


def test_log_config_quiets_pygeoapi_and_uvicorns_access_log() -> None:
    config = log_config("info")
    assert config["loggers"]["pygeoapi"]["level"] == "ERROR"
    assert config["loggers"]["pygeoapi"]["propagate"] is False
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    logging.config.dictConfig(config)  # it is a valid configuration
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})


def test_a_real_server_logs_json_lines_without_tokens(
    tiles_dir: Path, tmp_path: Path, token: str, probe: Probe
) -> None:
    log = tmp_path / "serve.log"
    z, x, y = probe.public
    with serve(tiles_dir, tmp_path / "tokens", log) as (base, _proc):
        bearer = {"Authorization": f"Bearer {token}", "X-Request-ID": "real-1"}
        assert httpx.get(f"{base}/internal/ogc/collections", headers=bearer).status_code == 200
        r = httpx.get(f"{base}/ogc/collections/hl/items?token={token}&limit=1")
        assert r.status_code == 200
        httpx.get(f"{base}/ogc/collections/hl/items?bbox=not,a,bbox")  # pygeoapi complains
        httpx.get(f"{base}/tiles/public/{z}/{x}/{y}.mvt")
    lines = log.read_text(encoding="utf-8").splitlines()
    docs = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [d for d in docs if d["logger"] == ACCESS_LOGGER]
    assert [d["path"] for d in access if d["path"] != "/healthz"] == [
        "/internal/ogc/collections",
        "/ogc/collections/hl/items",
        "/ogc/collections/hl/items",
        f"/tiles/public/{z}/{x}/{y}.mvt",
    ]
    assert access[-4]["request_id"] == "real-1"
    assert token not in log.read_text(encoding="utf-8")
    # pygeoapi's info and warning lines are dropped; its errors stay (as JSON lines)
    assert {d["level"] for d in docs if d["logger"].startswith("pygeoapi")} <= {"ERROR"}
    assert not any(d["logger"] == "uvicorn.access" for d in docs)


# -- gzip --------------------------------------------------------------------------------------


def test_json_and_html_are_gzipped(client: TestClient) -> None:
    gz = {"Accept-Encoding": "gzip"}
    for path in ("/ogc/collections", "/ogc/?f=html", "/tiles/public.json", "/styles/public.json"):
        r = client.get(path, headers=gz)
        assert r.status_code == 200, path
        assert r.headers["content-encoding"] == "gzip", path
        assert "accept-encoding" in r.headers["vary"].lower(), path
        assert r.content  # httpx undid the gzip: the body reads
    assert client.get("/ogc/collections", headers=gz).json()["collections"]
    plain = client.get("/ogc/collections", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    small = client.get("/healthz", headers=gz)
    assert "content-encoding" not in small.headers  # below the minimum size


def test_gzipped_document_still_revalidates(client: TestClient) -> None:
    gz = {"Accept-Encoding": "gzip"}
    first = client.get("/tiles/public.json", headers=gz)
    again = client.get("/tiles/public.json", headers={**gz, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_tiles_are_not_compressed_twice(client: TestClient, probe: Probe) -> None:
    z, x, y = probe.public
    for path in (
        f"/tiles/public/{z}/{x}/{y}.mvt",
        f"/ogc/collections/hl/tiles/WebMercatorQuad/{z}/{y}/{x}",
    ):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        if r.status_code == 204:
            continue
        assert r.status_code == 200, path
        assert r.headers["content-encoding"] == "gzip", path  # once, as stored
        assert decode(r.content, gzipped=False), path  # one gunzip gives the MVT


def test_the_archive_is_never_compressed(client: TestClient, built_releases: Built) -> None:
    data = built_releases.archive_path(built_releases.first, "public").read_bytes()
    gz = {"Accept-Encoding": "gzip"}
    whole = client.get("/tiles/public.pmtiles", headers=gz)
    assert whole.status_code == 200 and "content-encoding" not in whole.headers
    assert whole.content == data
    part = client.get("/tiles/public.pmtiles", headers={**gz, "Range": "bytes=0-126"})
    assert part.status_code == 206 and "content-encoding" not in part.headers
    assert part.content == data[:127]
    assert not part.content.startswith(gzip.compress(b"")[:2])  # gzip magic: not wrapped


def test_new_request_ids_are_unique_and_tell_the_worker() -> None:
    from publish.server.logs import RequestIds

    one, two = RequestIds(), RequestIds()
    made = [request_id_from(None, one) for _ in range(1000)]
    assert len(set(made)) == 1000
    assert all(m.startswith(one.prefix) and len(m) == 22 for m in made)
    assert one.prefix != two.prefix
    assert request_id_from("given-1", one) == "given-1"


def test_access_lines_are_written_in_batches() -> None:
    import io

    from publish.server.logs import BufferedStreamHandler

    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, capacity=3)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("publish.test.buffered")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("one")
        logger.warning("two")
        assert stream.getvalue() == ""  # waiting in the buffer
        logger.warning("three")  # the third fills it: one write of three lines
        assert [json.loads(x)["message"] for x in stream.getvalue().splitlines()] == [
            "one",
            "two",
            "three",
        ]
        logger.warning("four")
        handler.flush()  # what the server does every ACCESS_FLUSH_S
        assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "four"
        logger.warning("five")
        handler.close()  # at shutdown nothing is lost
        assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "five"
    finally:
        logger.removeHandler(handler)
