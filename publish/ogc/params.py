"""Checks of OGC API request parameters and bodies that pygeoapi would turn into a 500 (it parses
some of them without catching errors) or accept when it should not.

Every value of a repeated parameter is checked (pygeoapi reads the last). A failed check is a
BadRequestError naming the parameter and the value; the rest is pygeoapi's and the provider's to
judge, so both feature providers (GeoPackage and PostGIS) answer the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from publish.server.errors import BadRequestError

MAX_INTEGER = 2**63 - 1  # what SQLite and PostgreSQL take as a bigint
MAX_SORT_TERMS = 16  # more sort keys than any table here has published fields
_BOOLEANS = frozenset({"true", "false"})
_MAX_ECHO = 80  # characters of a bad value repeated in the message


def _shown(value: str) -> str:
    return repr(value if len(value) <= _MAX_ECHO else value[:_MAX_ECHO] + "…")


def _whole(name: str, value: str, minimum: int) -> None:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not minimum <= int(text) <= MAX_INTEGER:
        raise BadRequestError(
            f"{name} must be a whole number from {minimum} to {MAX_INTEGER} (got {_shown(value)})"
        )


def _bbox(value: str) -> None:
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise BadRequestError(
            f"bbox must be 4 or 6 finite numbers separated by commas (got {_shown(value)})"
        )


def _sortby(value: str) -> None:
    terms = value.split(",")
    if len(terms) > MAX_SORT_TERMS:
        raise BadRequestError(f"sortby takes at most {MAX_SORT_TERMS} properties")
    for term in terms:
        if not term.strip().lstrip("+-").strip():
            raise BadRequestError(
                f"sortby must be property names separated by commas, each optionally "
                f"preceded by + or - (got {_shown(value)})"
            )


def _boolean(name: str, value: str) -> None:
    if value.strip().lower() not in _BOOLEANS:
        raise BadRequestError(f"{name} must be true or false (got {_shown(value)})")


def check_items_query(items: Iterable[tuple[str, str]]) -> None:
    """BadRequestError for the first malformed parameter of an items request."""
    for name, value in items:
        if name == "bbox":
            _bbox(value)
        elif name == "offset":
            _whole(name, value, 0)
        elif name == "limit":
            _whole(name, value, 1)
        elif name == "sortby":
            _sortby(value)
        elif name == "skipGeometry":
            _boolean(name, value)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def check_execution_body(body: bytes) -> None:
    """BadRequestError unless `body` is an OGC API – Processes execute request: a JSON object
    (UTF-8) whose `inputs`, when given, is an object too."""
    try:
        request: Any = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadRequestError(
            f"the request body is not UTF-8 (byte {exc.start} cannot be decoded)"
        ) from None
    except RecursionError:
        raise BadRequestError("the request body is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError
        raise BadRequestError(f"the request body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise BadRequestError(
            f"the request body must be a JSON object with `inputs` (got {_json_kind(request)})"
        )
    if "subscriber" in request:  # callbacks would have the server call client-given URLs
        raise BadRequestError(
            "`subscriber` (callbacks) is not supported: the answer is synchronous"
        )
    inputs = request.get("inputs")
    if inputs is not None and not isinstance(inputs, dict):
        raise BadRequestError("`inputs` must be a JSON object of input names and values")
