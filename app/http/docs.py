"""The OpenAPI 3.1 document of the REST API, built from the routes themselves.

Every REST handler carries an `api(...)` description: summary, body and reply models,
the error statuses it can answer with, whether it takes a bearer token. The schemas
are pydantic's own (`model_json_schema`, JSON Schema 2020-12, which OpenAPI 3.1 uses
as is), so the spec says what the validators do. `build_spec` walks the router: a
REST route without a description fails tests/test_openapi.py instead of going
missing from the spec. sanic-ext's generator is off (app.main): it listed a model's
`model_config` as a body field, marked nothing required and typed replies from the
decorator's status number.

Errors are documented once, in `ERRORS`, as shared responses carrying the one error
body (PROTOCOL.md "Errors"); a route names the statuses it can answer with, so a new
refusal is one number in its `errors=(...)`. Routes with a body get 400, 413 and 422,
secured routes 401, and both 503 (the database is down), without saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, html, json

from app.polls.ids import MAX_POLL_ID

H = TypeVar("H", bound=Callable[..., Any])

REF = "#/components/schemas/{model}"
SCHEME = "bearer"


class FieldError(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[FieldError] | dict[str, Any] | None = None


class Error(BaseModel):
    """Every error response (PROTOCOL.md "Errors")."""

    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class ErrorDoc:
    status: int
    description: str
    # header name -> (description, always sent)
    headers: dict[str, tuple[str, bool]] = field(default_factory=dict)


# Shared error responses by component name; `DEFAULT_ERROR` picks one per status.
ERRORS: dict[str, ErrorDoc] = {
    "BadJson": ErrorDoc(400, "`bad_json`: the body is not JSON or not a JSON object"),
    "Unauthorized": ErrorDoc(
        401,
        "`unauthorized`: missing, malformed, expired, forged or revoked bearer token",
        {"WWW-Authenticate": ("`Bearer`", True)},
    ),
    "InvalidCredentials": ErrorDoc(401, "`invalid_credentials`: wrong username or password"),
    "Forbidden": ErrorDoc(
        403,
        "`forbidden` (not the owner; a guest managing polls), `account_required` (a guest "
        "voting where an account is required) or `results_hidden`",
    ),
    "NotFound": ErrorDoc(404, "`not_found`: no such poll or session"),
    "Conflict": ErrorDoc(
        409,
        "`username_taken`, `already_voted`, `poll_not_open` or `conflict` (the poll's or "
        "the session's state forbids it)",
    ),
    "PayloadTooLarge": ErrorDoc(413, "`payload_too_large`: the body is over the size limit"),
    "ValidationFailed": ErrorDoc(
        422,
        "`validation_failed` with one `{field, message}` per problem in `details`; "
        "`invalid_option` / `too_many_choices` / `wrong_rank_count` / `wrong_ballot` for a ballot",
    ),
    "RateLimited": ErrorDoc(
        429,
        "`rate_limited`: too many attempts; try again after `Retry-After` seconds",
        {"Retry-After": ("seconds to wait", True)},
    ),
    "Unavailable": ErrorDoc(
        503,
        "`unavailable`: a dependency failed or is busy; try again",
        {"Retry-After": ("seconds to wait", False)},
    ),
    "NotReady": ErrorDoc(503, "`not_ready`: `details.checks` names the failed dependency"),
}
DEFAULT_ERROR = {
    400: "BadJson",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "PayloadTooLarge",
    422: "ValidationFailed",
    429: "RateLimited",
    503: "Unavailable",
}
BODY_ERRORS = (400, 413, 422)

# Path parameters by name: what the handlers accept (anything else is a 404).
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "poll_id": {"type": "integer", "minimum": 1, "maximum": MAX_POLL_ID},
    "session_id": {"type": "integer", "minimum": 1, "maximum": MAX_POLL_ID},
    "code": {
        "type": "string",
        "minLength": 1,
        "description": "the join code, any letter case",
    },
}


@dataclass(frozen=True, slots=True)
class Api:
    """One operation's documentation (see `api`)."""

    operation_id: str
    summary: str
    status: int
    reply: type[BaseModel] | str | None
    description: str
    body: type[BaseModel] | None
    body_required: bool
    query: type[BaseModel] | None
    errors: tuple[int | str, ...]
    secured: bool
    links: dict[str, dict[str, Any]]


def api(
    operation_id: str,
    summary: str,
    *,
    status: int = 200,
    reply: type[BaseModel] | str | None = None,
    description: str = "",
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    query: type[BaseModel] | None = None,
    errors: Iterable[int | str] = (),
    secured: bool = False,
    links: dict[str, dict[str, Any]] | None = None,
) -> Callable[[H], H]:
    """Describe a route. `reply` is the success body's model, a media type for a
    non-JSON body, or None for no body; `errors` are statuses (their `DEFAULT_ERROR`)
    or names in `ERRORS`; `links` are OpenAPI links of the success response."""
    doc = Api(
        operation_id,
        summary,
        status,
        reply,
        description,
        body,
        body_required,
        query,
        tuple(errors),
        secured,
        links or {},
    )

    def mark(handler: H) -> H:
        handler.__dict__["__api__"] = doc
        return handler

    return mark


def api_of(handler: Any) -> Api | None:
    while handler is not None:
        doc = getattr(handler, "__api__", None)
        if isinstance(doc, Api):
            return doc
        handler = getattr(handler, "__wrapped__", None)
    return None


def link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


# --- the document ------------------------------------------------------------------------


def _path(route_path: str) -> tuple[str, list[str]]:
    """Sanic's `polls/<poll_id>` as OpenAPI's `/polls/{poll_id}`, and the names."""
    parts, names = [], []
    for part in route_path.strip("/").split("/"):
        if part.startswith("<") and part.endswith(">"):
            name = part[1:-1].split(":", 1)[0]
            names.append(name)
            part = "{" + name + "}"
        parts.append(part)
    return "/" + "/".join(parts), names


def _error_response(name: str) -> dict[str, Any]:
    doc = ERRORS[name]
    response: dict[str, Any] = {
        "description": doc.description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }
    if doc.headers:
        response["headers"] = {
            header: {
                "description": text,
                "required": always,
                "schema": {"type": "integer", "minimum": 1}
                if header == "Retry-After"
                else {"type": "string"},
            }
            for header, (text, always) in doc.headers.items()
        }
    return response


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _operation(doc: Api, param_names: list[str]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": doc.operation_id, "summary": doc.summary}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
        for name in param_names
    ]
    if doc.query is not None:
        parameters += _query_parameters(doc.query)
    if parameters:
        op["parameters"] = parameters
    if doc.body is not None:
        op["requestBody"] = {
            "required": doc.body_required,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=doc.body.__name__)}}
            },
        }
    if doc.secured:
        op["security"] = [{SCHEME: []}]
    success: dict[str, Any] = {"description": doc.description or "success"}
    if isinstance(doc.reply, str):
        success["content"] = {doc.reply: {"schema": {"type": "string"}}}
    elif doc.reply is not None:
        ref = {"$ref": REF.format(model=doc.reply.__name__)}
        success["content"] = {"application/json": {"schema": ref}}
    if doc.links:
        success["links"] = doc.links
    responses: dict[str, Any] = {str(doc.status): success}
    errors = list(doc.errors)
    if doc.body is not None:
        errors += BODY_ERRORS
    if doc.secured:
        errors.append(401)
    if doc.secured or doc.body is not None:
        # Both need the database (the token check, or the body's work): while it is
        # down they answer 503 `unavailable` (app/errors.py).
        errors.append(503)
    for error in errors:
        name = error if isinstance(error, str) else DEFAULT_ERROR[error]
        status = str(ERRORS[name].status)
        # A route's own name for a status (InvalidCredentials) beats the default.
        if status not in responses or isinstance(error, str):
            responses[status] = {"$ref": f"#/components/responses/{name}"}
    op["responses"] = dict(sorted(responses.items()))
    return op


Described = tuple[str, str, list[str], Api | None, str]


def documented_routes(app: Sanic[Any, Any]) -> Iterable[Described]:
    """(method, path, path parameter names, its Api or None, route name) of every HTTP
    route but the automatic HEAD/OPTIONS ones."""
    for route in app.router.routes:
        if route.extra.websocket:
            continue
        path, names = _path(route.path)
        doc = api_of(route.handler)
        for method in sorted(route.methods):
            if method in ("HEAD", "OPTIONS") and doc is None:
                continue
            yield method, path, names, doc, route.name


def build_spec(app: Sanic[Any, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    # A body's schema is what its validator accepts, a reply's what the server writes.
    models: dict[type[BaseModel], JsonSchemaMode] = {Error: "serialization"}
    for method, path, names, doc, _ in documented_routes(app):
        if doc is None:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(doc, names)
        if doc.body is not None:
            models[doc.body] = "validation"
        if isinstance(doc.reply, type):
            models[doc.reply] = "serialization"
    _, schemas = models_json_schema(list(models.items()), ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": app.config.API_TITLE,
            "version": app.config.API_VERSION,
            "description": app.config.API_DESCRIPTION,
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas["$defs"].items())),
            "responses": {name: _error_response(name) for name in ERRORS},
            "securitySchemes": {
                SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


# --- serving -----------------------------------------------------------------------------

bp = Blueprint("docs", url_prefix="/docs")

# Swagger UI 5 (the first to read OpenAPI 3.1), from the CDN sanic-ext's page used.
SWAGGER_UI = "https://cdnjs.cloudflare.com/ajax/libs/swagger-ui/5.17.14"
SWAGGER_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>livepolls API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.min.css"></head>
<body><div id="openapi"></div><script src="{SWAGGER_UI}/swagger-ui-bundle.min.js"></script>
<script>SwaggerUIBundle({{url: "/docs/openapi.json", dom_id: "#openapi"}})</script>
</body></html>"""


@bp.get("/openapi.json")
async def spec(request: Request) -> HTTPResponse:
    return json(build_spec(request.app))


@bp.get("")
async def ui(request: Request) -> HTTPResponse:
    return html(SWAGGER_PAGE)
