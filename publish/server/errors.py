"""The server's exceptions, and the one table that turns any exception into an HTTP response.

Handlers and the release code raise; only `error_response` builds an error response. Every error
body is JSON `{"code": ..., "description": ...}`; a traceback goes to the log, never to a client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from publish.errors import PublishError, ReleaseError

log = logging.getLogger("publish.server")

WWW_AUTHENTICATE = 'Bearer realm="onemap", Basic realm="onemap"'
# The one body of every 404 whose subject does not exist (or is not for this audience): an
# internal id on a public path must be indistinguishable from an id nobody ever used.
NOT_FOUND_DESCRIPTION = "not found"


class SettingsError(PublishError):
    """The server's settings (environment variables or arguments) are invalid."""


class ReleaseLoadError(ReleaseError):
    """The release under DIR/current cannot be served (missing files, damaged archives, leaks)."""


class ServerError(PublishError):
    """An error a request ends with; `status` and `code` say how it goes out."""

    status: int = 500
    code: str = "InternalError"

    def __init__(self, description: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.headers: dict[str, str] = dict(headers or {})


class BadRequestError(ServerError):
    status, code = 400, "BadRequest"


class UnauthorizedError(ServerError):
    status, code = 401, "Unauthorized"

    def __init__(self, description: str = "a valid token is needed for this path") -> None:
        super().__init__(description, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


class NotFoundError(ServerError):
    status, code = 404, "NotFound"

    def __init__(self, description: str = NOT_FOUND_DESCRIPTION) -> None:
        super().__init__(description)


class PayloadTooLargeError(ServerError):
    status, code = 413, "PayloadTooLarge"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is limited to {limit} bytes")


class RangeNotSatisfiableError(ServerError):
    status, code = 416, "RangeNotSatisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the range is outside the file's {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )


class NoReleaseError(ServerError):
    status, code = 503, "NoRelease"

    def __init__(self, description: str = "no release is loaded yet") -> None:
        super().__init__(description, headers={"Retry-After": "5"})


def _code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"


def error_response(exc: BaseException) -> Response:
    """The response for `exc`: ServerError as declared, Starlette's HTTPException (the router's
    404 and 405) by its status, anything else a logged 500."""
    if isinstance(exc, ServerError):
        status, code, description, headers = exc.status, exc.code, exc.description, exc.headers
    elif isinstance(exc, HTTPException):
        status, code, headers = exc.status_code, _code(exc.status_code), dict(exc.headers or {})
        description = NOT_FOUND_DESCRIPTION if status == 404 else str(exc.detail)
    else:
        log.error("internal error", exc_info=exc)
        status, code, description, headers = 500, "InternalError", "internal error", {}
    headers.setdefault("Cache-Control", "no-store")
    # also where no middleware adds it: a 500 answered by Starlette's outermost error handler
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # `type` too: OGC API exceptions carry it (pygeoapi's own bodies have both)
    body = {"code": code, "type": code, "description": description}
    return JSONResponse(body, status, headers=headers)


async def _handle(request: Request, exc: Exception) -> Response:
    return error_response(exc)


def exception_handlers() -> dict[Any, Callable[[Request, Exception], Any]]:
    """For `Starlette(exception_handlers=...)`: every exception goes through `error_response`."""
    return {HTTPException: _handle, ServerError: _handle, Exception: _handle}
