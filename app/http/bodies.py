"""Request bodies: JSON parsing and pydantic validation mapped onto PROTOCOL.md errors.

Not JSON or not an object is 400 `bad_json`; schema violations are 422
`validation_failed` with one `{"field", "message"}` per problem, the field written
the way a client would address it (`options[2]`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sanic import Request

from app.errors import BadJson, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def json_object(request: Request) -> dict[str, Any]:
    body = request.body
    if not body:
        raise BadJson("the request body must be a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadJson("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadJson("the request body must be a JSON object")
    return data


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors(include_url=False):
        # Drop pydantic's union/validator tags from the location ("function-after", ...).
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or "-" not in p)
        message = err["msg"].removeprefix("Value error, ")
        details.append({"field": field_path(loc), "message": message})
    return details


def validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "the request has invalid fields", details=validation_details(exc)
        ) from None


def parse_body(request: Request, model: type[M]) -> M:
    return validate(model, json_object(request))


class PageQuery(BaseModel):
    """The paging of every list route (polls, sessions); each adds its own filters."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000_000)


# A list's `q`: a case-insensitive part of the text it searches (the caller says which).
SEARCH_MAX = 100


def parse_query(request: Request, model: type[M]) -> M:
    """The query string as `model`. Blank values are kept: `?limit=` is a bad limit
    (422), not a missing one."""
    args = request.get_args(keep_blank_values=True)
    return validate(model, {k: v[0] for k, v in args.items()})
