"""OpenAPI documentation of JSON bodies from pydantic models.

sanic-ext documents a bare model class as `*/*` and lists its `model_config` as a
field; these helpers register the model as a named component (its `model_json_schema`)
and reference it under `application/json` instead. Documentation only: request
bodies are validated by app.http.bodies, which gives PROTOCOL.md's 422 shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sanic_ext.extensions.openapi.definitions import Component, RequestBody, Response


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | dict[str, Any] | None = None


class ErrorReply(BaseModel):
    """Every error response (PROTOCOL.md "Errors")."""

    error: ErrorInfo


def json_body(model: type[BaseModel], *, required: bool = True) -> RequestBody:
    return RequestBody({"application/json": Component(model)}, required=required)


def reply(status: int, model: type[BaseModel] | None, description: str) -> Response:
    if model is None:
        return Response({}, status=status, description=description)
    return Response({"application/json": Component(model)}, status=status, description=description)


def error(status: int, description: str) -> Response:
    return reply(status, ErrorReply, description)
