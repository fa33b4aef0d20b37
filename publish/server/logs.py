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
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publish.server.metrics import Metrics, route_template

ACCESS_LOGGER = "publish.access"
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_SCOPE = "onemap.request_id"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_FIELDS = "fields"  # the LogRecord attribute the formatter spreads into the JSON object

access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_from(header: str | None) -> str:
    """The client's request id if it is sane (1–64 of A–Z a–z 0–9 . _ : -), else a new one."""
    if header is not None and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line (UTF-8 kept, not escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
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


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `serve` (uvicorn's `log_config`): everything as JSON
    lines on stderr; uvicorn's own access log off (it logs query strings; ours replaces it);
    pygeoapi at ERROR and kept to itself (its per-request warnings are noise)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["json"], "level": "ERROR", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "publish": {"handlers": ["json"], "level": level.upper(), "propagate": False},
            "pygeoapi": quiet,
        },
    }


def quiet_pygeoapi() -> None:
    """pygeoapi logs a warning or info line for many ordinary requests: keep only its errors."""
    logging.getLogger("pygeoapi").setLevel(logging.ERROR)


class RequestLog:
    """Pure ASGI middleware: request id, one access log line, and the request's metrics."""

    def __init__(
        self, app: ASGIApp, routes: Iterable[BaseRoute], metrics: Metrics | None = None
    ) -> None:
        self.app = app
        self.routes = list(routes)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
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
            self._record(scope, request_id, status, sent, time.perf_counter() - started)

    def _record(
        self, scope: Scope, request_id: str, status: int, sent: int, seconds: float
    ) -> None:
        route = route_template(
            self.routes,
            {"type": "http", "path": scope["path"], "method": scope["method"], "root_path": ""},
        )
        if self.metrics is not None:
            self.metrics.observe(scope["method"], route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        path = scope["path"]
        client = scope.get("client")
        fields = {
            "request_id": request_id,
            "method": scope["method"],
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "bytes": sent,
            "client": client[0] if client else None,
        }
        access_log.info("%s %s %d", scope["method"], path, status, extra={_FIELDS: fields})
