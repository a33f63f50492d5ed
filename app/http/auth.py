"""Auth routes (PROTOCOL.md "Auth")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sanic_ext import openapi

from app import sessions, users
from app.auth import revoke_token
from app.http.bodies import json_object, parse_body, validate
from app.http.docs import error, json_body, reply
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


BAD_BODY = [error(400, "not a JSON object"), error(422, "invalid fields, named in details")]
BAD_TOKEN = error(401, "missing, malformed, expired, forged or revoked token")


@bp.post("/register")
@openapi.definition(
    body=json_body(RegisterBody),
    summary="Create an account",
    response=[
        reply(201, UserReply, "the new account"),
        *BAD_BODY,
        error(409, "username_taken: the name is taken, in any letter case"),
    ],
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
@openapi.definition(
    body=json_body(LoginBody),
    summary="A token for a registered user",
    response=[
        reply(200, TokenReply, "access and refresh tokens"),
        *BAD_BODY,
        error(401, "invalid_credentials: wrong username or password"),
        error(429, "rate_limited: too many attempts for this name or address; see Retry-After"),
    ],
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
@openapi.definition(
    body=json_body(GuestBody, required=False),
    summary="A token for a new guest user",
    response=[
        reply(201, TokenReply, "access and refresh tokens for a new guest"),
        *BAD_BODY,
        error(429, "rate_limited: too many new guests from this address; see Retry-After"),
    ],
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
@openapi.definition(
    body=json_body(RefreshBody),
    summary="Renew a session: new access and refresh tokens for the same user",
    response=[
        reply(200, TokenReply, "new tokens; the refresh token sent is spent"),
        *BAD_BODY,
        error(401, "unknown, expired, revoked or reused refresh token (reuse ends the session)"),
        error(429, "rate_limited: too many renewals from this address or session"),
    ],
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
@openapi.definition(
    summary="Revoke the caller's token everywhere and end its session",
    secured={"token": []},
    response=[reply(204, None, "revoked; its WebSockets close with 4401"), BAD_TOKEN],
)
async def logout(request: Request, principal: Principal) -> HTTPResponse:
    ctx = request.app.ctx
    await revoke_token(redis=ctx.redis.client, principal=principal)
    if principal.session is not None:
        await sessions.end_session(family=principal.session)
    return empty()


@bp.get("/me")
@openapi.definition(
    summary="The caller's user",
    secured={"token": []},
    response=[reply(200, UserReply, "the caller"), BAD_TOKEN],
)
async def me(request: Request, principal: Principal) -> HTTPResponse:
    user = await User.get(id=principal.user_id)
    return json({"user": users.user_json(user)})
