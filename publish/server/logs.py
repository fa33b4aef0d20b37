"""JSON logs: one line per log record, and one access line per request with its request id.

`RequestLog` is the outermost middleware: it takes the request id from `X-Request-ID` when that
is sane (else makes one), echoes it in the response, times the request, and writes one line to
the `publish.access` logger:

    {"time": "2026-11-28T15:30:00.123Z", "level": "INFO", "logger": "publish.access",
     "message": "GET /tiles/public/8/210/110.mvt 200", "request_id": "…", "method": "GET",
     "route": "/tiles/{audience}/{z}/{x}/{name}", "path": "/tiles/public/8/210/110.mvt",
     "status": 200, "duration_ms": 0.41, "bytes": 5123, "client": "127.0.0.1"}

Only the path is logged: no query string (a client may put a token there), no header but the
request id. It also feeds the request to `Metrics` (route template, status, latency).

The route template costs a dictionary lookup: Starlette's router leaves the route it chose in the
scope (`scope["route"]`, the innermost one under mounts, or the route whose path matched when the
method did not: 405), and each route object's template, mounts joined, is worked out once from
the route table. Requests the router never saw (a 401 from the audience guard, a CORS preflight)
or saw through a copied scope (the guard copies it for an admitted internal request) are matched
against the table as before (`route_template`).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publish.server.metrics import Metrics, route_template

ACCESS_LOGGER = "publish.access"
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_SCOPE = "onemap.request_id"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_FIELDS = "fields"  # the LogRecord attribute the formatter spreads into the JSON object

access_log = logging.getLogger(ACCESS_LOGGER)


class RequestIds:
    """New request ids: a random prefix of this process's and a counter (a uuid4 per request cost
    ~2 % of a tile request). Made in each worker, so the prefix tells workers apart."""

    def __init__(self) -> None:
        self.prefix = os.urandom(6).hex()
        self.counter = itertools.count(1)

    def __call__(self) -> str:
        return "%s%010x" % (self.prefix, next(self.counter))  # noqa: UP031 (an f-string: 1.3x)


def request_id_from(header: str | None, new_id: Callable[[], str] | None = None) -> str:
    """The client's request id if it is sane (1–64 of A–Z a–z 0–9 . _ : -), else a new one."""
    if header is not None and _SANE_ID.fullmatch(header):
        return header
    return new_id() if new_id is not None else uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line (UTF-8 kept, not escaped)."""

    _last: tuple[int, str] = (-1, "")  # (second, its text): replaced whole, so thread-safe
    _last_ms: tuple[int, str] = (-1, "")  # (millisecond, the whole time text): the same

    def _time(self, created: float) -> str:
        """`created` as 2026-11-28T15:30:00.123Z (the part up to the second made once a second,
        the whole once a millisecond: a busy server writes many lines in one)."""
        ms = int(created * 1000)
        last_ms = self._last_ms
        if last_ms[0] == ms:
            return last_ms[1]
        second = ms // 1000
        last = self._last
        if last[0] != second:
            last = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
            self._last = last
        text = f"{last[1]}.{ms - second * 1000:03d}Z"
        self._last_ms = (ms, text)
        return text

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


class BufferedStreamHandler(logging.StreamHandler):
    """A StreamHandler that writes its lines in batches: when `capacity` lines are waiting, on
    `flush()` (the server calls it every `ACCESS_FLUSH_S` seconds) and when closed — as nginx's
    `access_log … buffer= flush=` does. One write a batch instead of one write and flush a line:
    the access line is the largest cost of a cached tile request after the socket."""

    def __init__(self, stream: Any = None, capacity: int = 256) -> None:
        super().__init__(stream)
        self.capacity = capacity
        self.pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.append_lines((line,))

    def append_lines(self, lines: Iterable[str]) -> None:
        """Queue lines already formatted (see `AccessRecorder.flush`)."""
        with self.lock:  # type: ignore[union-attr]
            self.pending.extend(lines)
            if len(self.pending) < self.capacity:
                return
        self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if not self.pending:
                return
            text = "\n".join(self.pending) + "\n"
            self.pending.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # a closed or full stream: drop the batch, keep serving
                pass

    def close(self) -> None:
        self.flush()
        super().close()


ACCESS_FLUSH_S = 1.0  # the longest an access line waits in the buffer


def flush_access_log() -> None:
    """Write the access lines waiting in buffered handlers (the server's lifespan calls it,
    after `Metrics.sync`, which hands them the lines its `AccessRecorder` holds)."""
    for handler in access_log.handlers:
        handler.flush()


class QueryStringFilter(logging.Filter):
    """Drops query strings from a record's message. MapProxy names a request as path?query (a
    client may put a token in the query); the project logs paths only."""

    _QUERY = re.compile(r"\?[^\s\"'<>]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._QUERY.sub("", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `serve` (uvicorn's `log_config`, granian's
    `log_dictconfig`): everything as JSON lines on stderr, access lines written in batches
    (`BufferedStreamHandler`, at most `ACCESS_FLUSH_S` late); uvicorn's and granian's own access
    logs off (they log query strings; ours replaces them);
    pygeoapi at ERROR and kept to itself (its per-request warnings are noise); MapProxy's loggers
    (`mapproxy.*`) at WARNING, without query strings (`QueryStringFilter`)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    no_query = {**handler, "filters": ["no_query"]}
    buffered = {
        "()": BufferedStreamHandler,
        "formatter": "json",
        "stream": "ext://sys.stderr",
    }
    quiet = {"handlers": ["json"], "level": "ERROR", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"no_query": {"()": QueryStringFilter}},
        "handlers": {"json": handler, "access": buffered, "no_query": no_query},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "_granian": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "publish": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "level": level.upper(), "propagate": False},
            "pygeoapi": quiet,
            "mapproxy": {"handlers": ["no_query"], "level": "WARNING", "propagate": False},
        },
    }


def quiet_pygeoapi() -> None:
    """pygeoapi logs a warning or info line for many ordinary requests: keep only its errors."""
    logging.getLogger("pygeoapi").setLevel(logging.ERROR)


def route_templates(routes: Iterable[BaseRoute], prefix: str = "") -> dict[int, str]:
    """The `id()` of each route object of the table (mounts and what they hold; routes are not
    hashable) → its template, as `route_template` names it. A route object found twice is left
    out (its template depends on where it was reached). The table must outlive the result."""
    found: dict[int, str] = {}
    twice: set[int] = set()
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        entries = {id(route): path + "/{path}" if isinstance(route, Mount) else path}
        if isinstance(route, Mount) and route.routes:
            entries.update(route_templates(route.routes, path))
        for key, template in entries.items():
            if key in found:
                twice.add(key)
            found[key] = template
    for key in twice:
        del found[key]
    return found


def access_line(
    time_text: str,
    request_id: str,
    method: str,
    route: str,
    path: str,
    status: int,
    duration_ms: float,
    sent: int,
    client: str | None,
) -> str:
    """The access line `JsonFormatter` would write for these values, made without a LogRecord
    and a dict: a quarter of the cost, which counts at thousands of tile requests a second.
    tests/server/test_logs.py holds the two to the same text."""
    # The method (an HTTP token: no quote, backslash or control character) and the request id
    # (`request_id_from`: 1-64 of A-Z a-z 0-9 . _ : -) need no escaping; the path's escaped
    # text serves the message too.
    quoted_path = _quote(path)
    address = "null" if client is None else _quote(client)
    return (
        f'{{"time": "{time_text}", "level": "INFO", "logger": "{ACCESS_LOGGER}", '
        f'"message": "{method} {quoted_path[1:-1]} {status}", "request_id": "{request_id}", '
        f'"method": "{method}", "route": {_quote(route)}, "path": {quoted_path}, '
        f'"status": {status}, "duration_ms": {duration_ms!r}, "bytes": {sent}, '
        f'"client": {address}}}'
    )


def _direct_handlers() -> list[tuple[BufferedStreamHandler, JsonFormatter]] | None:
    """The access logger's handlers when `access_line` can stand in for its records: every
    handler a BufferedStreamHandler with a JsonFormatter at INFO or below, no filter anywhere,
    nothing passed up to other loggers (as `log_config` sets it up). Else None: records then."""
    if access_log.propagate or access_log.filters or not access_log.handlers:
        return None
    found = []
    for handler in access_log.handlers:
        formatter = handler.formatter
        if (
            type(handler) is not BufferedStreamHandler
            or type(formatter) is not JsonFormatter
            or handler.filters
            or handler.level > logging.INFO
        ):
            return None
        found.append((handler, formatter))
    return found


BATCH = 256  # finished requests an AccessRecorder holds before it counts them and logs them
# A finished request as the recorder holds it: when (time.time()), request id, method, route,
# path, status, seconds, bytes sent, client address
_Finished = tuple[float, str, str, str, str, int, float, int, str | None]


class AccessRecorder:
    """What a finished request leaves behind: its metrics and its access line. Shared by
    `RequestLog` and the tile fast path (publish.server.fastpath), which answers ahead of it.

    When the access log is set up as `log_config` sets it up (lines written in batches), a
    request's values are kept, and its count and line are made with others' (`flush`): when
    BATCH requests wait, and whenever the metrics are read (`Metrics.sync`: every second from
    the lifespan, before its access log flush, and at every scrape). The same counts and the
    same lines, made in one tight loop, cost less than one at a time between requests. Set up
    otherwise (a test's log capture), both are done at once."""

    def __init__(self, routes: Iterable[BaseRoute], metrics: Metrics | None = None) -> None:
        self.routes = list(routes)  # kept: `templates` is keyed by the routes' id()
        self.templates = route_templates(self.routes)
        self.metrics = metrics
        self.new_id = RequestIds()
        self._finished: list[_Finished] = []
        if metrics is not None:
            metrics.sources.append(self.flush)

    def route_of(self, scope: Scope) -> str:
        """The template of the route that answered the request `scope`."""
        route = scope.get("route")
        if route is not None:
            template = self.templates.get(id(route))
            if template is not None:
                return template
        return route_template(
            self.routes,
            {"type": "http", "path": scope["path"], "method": scope["method"], "root_path": ""},
        )

    def record(
        self,
        scope: Scope,
        request_id: str,
        status: int,
        sent: int,
        seconds: float,
        route: str | None = None,
    ) -> None:
        """Count the request and write its access line (see the class's text); `route` when
        the caller knows it."""
        if route is None:
            route = self.route_of(scope)
        client = scope.get("client")
        finished = (
            time.time(), request_id, scope["method"], route, scope["path"], status, seconds, sent,
            client[0] if client else None,
        )  # fmt: skip
        waiting = self._finished
        # a batch under way was begun as served (what changed since, `flush` sees to)
        if waiting or (access_log.isEnabledFor(logging.INFO) and _direct_handlers() is not None):
            waiting.append(finished)
            if len(waiting) >= BATCH:
                self.flush()
            return
        if self.metrics is not None:
            self.metrics.observe(scope["method"], route, status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            _log_record(finished, created=None)

    def flush(self) -> None:
        """Count the requests kept and hand their access lines to the log's handlers."""
        finished, self._finished = self._finished, []
        if not finished:
            return
        if self.metrics is not None:
            observe = self.metrics.observe
            for _, _, method, route, _, status, seconds, _, _ in finished:
                observe(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        direct = _direct_handlers()
        if direct is None:  # set up otherwise meanwhile: as records, with their own times
            for one in finished:
                _log_record(one, created=one[0])
            return
        time_text = direct[0][1]._time
        lines = [
            access_line(
                time_text(created), request_id, method, route, path, status,
                round(seconds * 1e6) / 1000,  # to the µs; round(x, 3) costs 5× more
                sent, address,
            )
            for created, request_id, method, route, path, status, seconds, sent, address
            in finished
        ]  # fmt: skip
        for handler, _ in direct:
            handler.append_lines(lines)


def _log_record(finished: _Finished, created: float | None) -> None:
    """A finished request's access line through the logging machinery (a LogRecord made at
    `created`, or now)."""
    _, request_id, method, route, path, status, seconds, sent, address = finished
    fields = {
        "request_id": request_id,
        "method": method,
        "route": route,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1e6) / 1000,
        "bytes": sent,
        "client": address,
    }
    # makeRecord + handle is what `info` does, less looking up the caller's frame
    record = access_log.makeRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        0,
        "%s %s %d",
        (method, path, status),
        None,
        extra={_FIELDS: fields},
    )
    if created is not None:
        record.created = created
        record.msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord makes it
    access_log.handle(record)


class RequestLog:
    """Pure ASGI middleware: request id, one access log line, and the request's metrics."""

    def __init__(self, app: ASGIApp, recorder: AccessRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        recorder = self.recorder
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER), recorder.new_id)
        scope[REQUEST_ID_SCOPE] = request_id
        status = 500
        sent = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            recorder.record(scope, request_id, status, sent, time.perf_counter() - started)
