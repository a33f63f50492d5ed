"""Auth routes (PROTOCOL.md "Auth")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from app import sessions, users
from app.auth import revoke_token
from app.http.bodies import json_object, parse_body, validate
from app.http.docs import api
from app.http.headers import never_cached
from app.ratelimit import client_ip
from app.tokens import Principal
from models import User

bp = Blueprint("auth", url_prefix="/auth")
never_cached(bp)


class GuestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str | None = Field(None, min_length=1, max_length=40)


class RegisterBody(BaseModel):
    # No whitespace stripping: a password is exactly what the user typed.
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=128)


class LoginBody(BaseModel):
    # Only bounded here: a name or password that could never have been registered is
    # simply wrong (401), like any other.
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=sessions.MAX_REFRESH_TOKEN_CHARS)


class UserOut(BaseModel):
    id: int
    username: str
    is_guest: bool


class UserReply(BaseModel):
    user: UserOut


class TokenReply(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: UserOut


@bp.post("/register")
@api(
    "register",
    "Create an account (a name taken in any letter case is a 409)",
    status=201,
    reply=UserReply,
    body=RegisterBody,
    errors=(409, 429),
)
async def register(request: Request) -> HTTPResponse:
    body = parse_body(request, RegisterBody)
    ctx = request.app.ctx
    user = await users.register(
        settings=ctx.settings,
        redis=ctx.redis.client,
        username=body.username,
        password=body.password,
        ip=client_ip(request, ctx.settings),
    )
    return json({"user": users.user_json(user)}, status=201)


@bp.post("/login")
@api(
    "login",
    "A token for a registered user",
    reply=TokenReply,
    body=LoginBody,
    errors=("InvalidCredentials", 429),
)
async def login(request: Request) -> HTTPResponse:
    body = parse_body(request, LoginBody)
    ctx = request.app.ctx
    user = await users.login(
        settings=ctx.settings,
        redis=ctx.redis.client,
        username=body.username,
        password=body.password,
        ip=client_ip(request, ctx.settings),
    )
    return json(await sessions.start_session(settings=ctx.settings, user=user))


@bp.post("/guest")
@api(
    "guest",
    "A token for a new guest user",
    status=201,
    reply=TokenReply,
    body=GuestBody,
    body_required=False,
    errors=(429,),
)
async def guest(request: Request) -> HTTPResponse:
    # An empty body is fine here: the display name is optional.
    body = validate(GuestBody, json_object(request) if request.body else {})
    ctx = request.app.ctx
    user = await users.create_guest(
        settings=ctx.settings,
        redis=ctx.redis.client,
        display_name=body.display_name,
        ip=client_ip(request, ctx.settings),
    )
    token = await sessions.start_session(settings=ctx.settings, user=user)
    return json(token, status=201)


@bp.post("/refresh")
@api(
    "refresh",
    "Renew a session: new access and refresh tokens for the same user",
    description="the refresh token sent is spent; presenting a spent one again ends its session",
    reply=TokenReply,
    body=RefreshBody,
    errors=(401, 429),
)
async def refresh(request: Request) -> HTTPResponse:
    body = parse_body(request, RefreshBody)
    ctx = request.app.ctx
    token = await sessions.renew(
        settings=ctx.settings,
        redis=ctx.redis.client,
        refresh_token=body.refresh_token,
        ip=client_ip(request, ctx.settings),
    )
    return json(token)


@bp.post("/logout")
@api(
    "logout",
    "Revoke the caller's token everywhere and end its session",
    status=204,
    description="revoked; its WebSockets close with 4401",
    secured=True,
)
async def logout(request: Request, principal: Principal) -> HTTPResponse:
    ctx = request.app.ctx
    await revoke_token(redis=ctx.redis.client, principal=principal)
    if principal.session is not None:
        await sessions.end_session(family=principal.session)
    return empty()


@bp.get("/me")
@api("me", "The caller's user", reply=UserReply, secured=True)
async def me(request: Request, principal: Principal) -> HTTPResponse:
    user = await User.get(id=principal.user_id)
    return json({"user": users.user_json(user)})
