"""One error type for everything a client may be told, and one renderer.

    ApiError(status, code, message, details)      any refusal with a stable `code`
     ├── Unauthorized        401 unauthorized (adds WWW-Authenticate: Bearer)
     ├── Forbidden           403 forbidden / account_required / results_hidden
     ├── NotFound            404 not_found
     ├── Conflict            409 username_taken / already_voted / poll_not_open
     ├── ValidationFailed    422 validation_failed, field errors in `details`
     ├── RateLimited         429 rate_limited (adds Retry-After)
     └── Unavailable         503 unavailable (adds Retry-After): a dependency is down

Sanic's own refusals get the same body: an undeclared method on a known path is 405
`method_not_allowed` with the `Allow` header RFC 9110 requires.

Services raise these; HTTP handlers let them propagate to `render_error`, and the
WebSocket loop sends the same `code` in an `ERROR` message. A database error that
means the database is unreachable, hung or locked (`app.db.is_outage`) is answered
as `Unavailable`. Anything else that escapes is a bug: it is logged with the request
id and the client gets a 500 `internal_error` without a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from sanic import Request, Sanic
from sanic.exceptions import MethodNotAllowed, SanicException
from sanic.response import HTTPResponse, json

from app.db import is_outage
from app.http import request_ids

log = logging.getLogger("livepolls.errors")

# Sanic's own exceptions (routing, body size, malformed requests) mapped to our codes.
_SANIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    503: "unavailable",
}


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadJson(ApiError):
    status, code = 400, "bad_json"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"

    def __init__(self, message: str = "a valid bearer token is required", **kw: Any) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"}, **kw)


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status = 409


class ValidationFailed(ApiError):
    status, code = 422, "validation_failed"


def invalid_field(field: str, message: str) -> ValidationFailed:
    """A 422 about one field, for checks a body schema cannot express (they need the
    database, or several fields at once), shaped like the schema's own errors."""
    return ValidationFailed(
        "the request has invalid fields", details=[{"field": field, "message": message}]
    )


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, retry_after: int, message: str = "too many requests") -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


class Unavailable(ApiError):
    status, code = 503, "unavailable"

    def __init__(
        self, message: str = "temporarily unavailable, try again", *, retry_after: int = 5
    ) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, headers={"Retry-After": str(self.retry_after)})


def render_error(request: Request, exc: Exception) -> HTTPResponse:
    if is_outage(exc):
        # Expected while the database is down: one line, no traceback per request.
        log.warning("database unavailable in %s %s: %s", request.method, request.path, exc)
        exc = Unavailable("the database is unavailable, try again")
    if isinstance(exc, ApiError):
        return json(exc.body(), status=exc.status, headers=exc.headers)
    if isinstance(exc, SanicException) and (exc.status_code < 500 or exc.status_code == 503):
        status = exc.status_code
        code = _SANIC_CODES.get(status, "bad_request")
        headers = dict(getattr(exc, "headers", None) or {})
        if isinstance(exc, MethodNotAllowed) and "Allow" not in headers:
            headers["Allow"] = ", ".join(allowed_methods(request))
        body = ApiError(str(exc) or code.replace("_", " "), code=code).body()
        return json(body, status=status, headers=headers)
    request_id = request_ids.request_id(request)
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    body = ApiError(
        "internal error; quote the request id when reporting it",
        code="internal_error",
        details={"request_id": request_id},
    ).body()
    return json(body, status=500, headers={"X-Request-ID": request_id})


def allowed_methods(request: Request) -> list[str]:
    """The methods the router serves on this request's path. Sanic names them for a
    static path only; for `/polls/<poll_id>` its NoMethod carries none, so ask it."""
    router = request.app.router
    allowed: list[str] = []
    for method in sorted(router.ALLOWED_METHODS):
        try:
            router.get(request.path, method, request.headers.getone("host", None))
        except SanicException:
            continue
        allowed.append(str(method))
    return allowed


def setup_errors(app: Sanic[Any, Any]) -> None:
    app.error_handler.add(Exception, render_error)
