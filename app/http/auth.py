"""Auth routes (PROTOCOL.md "Auth")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from app import users
from app.http.bodies import json_object, validate
from app.tokens import Principal
from models import User

bp = Blueprint("auth", url_prefix="/auth")


class GuestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str | None = Field(None, min_length=1, max_length=40)


@bp.post("/guest")
@openapi.definition(body=GuestBody, summary="A token for a new guest user", response=201)
async def guest(request: Request) -> HTTPResponse:
    # An empty body is fine here: the display name is optional.
    body = validate(GuestBody, json_object(request) if request.body else {})
    user = await users.create_guest(display_name=body.display_name)
    token, _ = users.token_json(request.app.ctx.settings, user)
    return json(token, status=201)


@bp.get("/me")
@openapi.definition(summary="The caller's user", secured={"token": []})
async def me(request: Request, principal: Principal) -> HTTPResponse:
    user = await User.get(id=principal.user_id)
    return json({"user": users.user_json(user)})
