"""A failure inside MapProxy: the server's own 500 (JSON, the release header, no MapProxy text),
logged with its traceback but without the request's query string (a token may be in it); and
MapProxy's own log lines go out as JSON lines without query strings."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest

from publish.server.logs import log_config
from publish.wms.source import StyleInfoSource
from tests.server.helpers import TestClient
from tests.wms.helpers import Probes
from tests.wms.test_wms import featureinfo_params

SECRET = "s3cret-token-value"


class RenderBroke(RuntimeError):
    pass


def _broken_info(self: StyleInfoSource, query: Any) -> Any:
    raise RenderBroke("the feature store went away")


@pytest.fixture
def every_record(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, fed by the loggers that may not pass records up (as `serve` sets them)."""
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("publish", "mapproxy")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def test_a_failure_inside_mapproxy_is_our_500_logged_without_the_query(
    wms_app: TestClient,
    probes: Probes,
    monkeypatch: pytest.MonkeyPatch,
    every_record: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(StyleInfoSource, "get_info", _broken_info)
    place = probes.land_use
    params = featureinfo_params("ydyh", place.lon, place.lat, "application/json")
    r = wms_app.get("/wms", params={**params, "access_token": SECRET})
    assert r.status_code == 500
    assert r.json() == {
        "code": "InternalError",
        "type": "InternalError",
        "description": "internal error",
    }
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-onemap-release"]
    failures = [rec for rec in every_record.records if rec.exc_info]
    assert failures and all(rec.exc_info[0] is RenderBroke for rec in failures)  # type: ignore[index]
    server_side = [rec for rec in every_record.records if not rec.name.startswith("httpx")]
    assert any(rec.name == "publish.access" for rec in server_side)
    for record in server_side:  # (the test's own client logs the URL it asked for)
        logged = record.getMessage() + (every_record.handler.format(record) or "")
        assert SECRET not in logged
        assert "GetFeatureInfo" not in logged and "QUERY_LAYERS" not in logged


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """`serve`'s logging configuration for one test, its stderr lines written to the StringIO
    yielded; the loggers' state restored after."""
    names = [None, *logging.root.manager.loggerDict]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
    logging.config.dictConfig(log_config("info"))
    out = io.StringIO()
    for name in ("mapproxy", "publish"):
        for handler in logging.getLogger(name).handlers:
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(out)
    yield out
    for name, (handlers, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


def test_mapproxy_log_lines_are_json_without_query_strings(server_log: io.StringIO) -> None:
    # what MapProxy writes when it catches an error itself (mapproxy.wsgiapp)
    logging.getLogger("mapproxy.wsgiapp").critical(
        "fatal error in %s for %s?%s", "wms", "/wms", f"REQUEST=GetMap&access_token={SECRET}"
    )
    logging.getLogger("mapproxy.source.request").warning(
        "error in response: http://upstream.example/wms?token=%s failed", SECRET
    )
    logging.getLogger("mapproxy.config").info("a detail nobody needs in production")
    logging.getLogger("publish.wms").warning("a question? of ours is left alone")
    text = server_log.getvalue()
    docs = [json.loads(line) for line in text.splitlines()]
    assert [(d["logger"], d["message"]) for d in docs] == [
        ("mapproxy.wsgiapp", "fatal error in wms for /wms"),
        ("mapproxy.source.request", "error in response: http://upstream.example/wms failed"),
        ("publish.wms", "a question? of ours is left alone"),
    ]
    assert SECRET not in text


def test_mapproxy_prints_nothing_of_its_own(
    wms_app: TestClient, monkeypatch: pytest.MonkeyPatch, probes: Probes
) -> None:
    """Nothing bypasses logging: with its catch-all off MapProxy prints no traceback of its own
    (it printed one to wsgi.errors, which a2wsgi makes the process's stdout)."""
    monkeypatch.setattr(StyleInfoSource, "get_info", _broken_info)
    place = probes.land_use
    params = featureinfo_params("ydyh", place.lon, place.lat, "application/json")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        r = wms_app.get("/wms", params={**params, "access_token": SECRET})
    assert r.status_code == 500
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert SECRET not in out.getvalue() + err.getvalue()
