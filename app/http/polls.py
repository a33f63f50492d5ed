"""Poll routes (PROTOCOL.md "Polls"): parse, call one service, shape the reply."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sanic_ext import openapi

from app.http.bodies import json_object, parse_body, validate
from app.http.headers import never_cached
from app.polls import service
from app.polls.schemas import CreatePoll, PatchPoll
from app.tokens import Principal

bp = Blueprint("polls", url_prefix="/polls")
never_cached(bp)
SECURED: dict[str, list[str]] = {"token": []}


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000_000)


class VoteBody(BaseModel):
    option_ids: list[int]


@bp.post("")
@openapi.definition(body=CreatePoll, summary="Create a poll", response=201, secured=SECURED)
async def create(request: Request, principal: Principal) -> HTTPResponse:
    body = parse_body(request, CreatePoll)
    ctx = request.app.ctx
    poll = await service.create_poll(
        settings=ctx.settings, redis=ctx.redis.client, arq=ctx.arq, principal=principal, body=body
    )
    return json(poll, status=201)


@bp.get("")
@openapi.definition(summary="My polls, newest first", secured=SECURED)
@openapi.parameter("limit", int, "query")
@openapi.parameter("offset", int, "query")
async def list_mine(request: Request, principal: Principal) -> HTTPResponse:
    query = validate(ListQuery, {k: v[0] for k, v in request.args.items()})
    return json(
        await service.list_polls(principal=principal, limit=query.limit, offset=query.offset)
    )


@bp.get("/<poll_id>")
@openapi.definition(summary="A poll, its results (when visible) and my vote", secured=SECURED)
async def get_poll(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    poll = await service.find_readable_poll(
        principal=principal, poll_id=service.parse_poll_id(poll_id)
    )
    return json(
        await service.poll_view(redis=request.app.ctx.redis.client, principal=principal, poll=poll)
    )


@bp.get("/code/<code>")
@openapi.definition(summary="A poll by its join code (case-insensitive)", secured=SECURED)
async def get_by_code(request: Request, code: str, principal: Principal) -> HTTPResponse:
    poll = await service.find_readable_poll(principal=principal, code=code)
    return json(
        await service.poll_view(redis=request.app.ctx.redis.client, principal=principal, poll=poll)
    )


@bp.patch("/<poll_id>")
@openapi.definition(body=PatchPoll, summary="Edit a draft", secured=SECURED)
async def patch(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    body = parse_body(request, PatchPoll)
    return json(
        await service.patch_poll(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
            body=body,
        )
    )


@bp.post("/<poll_id>/open")
@openapi.definition(summary="Open a draft", secured=SECURED)
async def open_(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    ctx = request.app.ctx
    return json(
        await service.open_poll(
            redis=ctx.redis.client,
            arq=ctx.arq,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.post("/<poll_id>/close")
@openapi.definition(summary="Close now; a closed poll returns its final results", secured=SECURED)
async def close(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.close_poll(
            redis=request.app.ctx.redis.client,
            arq=request.app.ctx.arq,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.delete("/<poll_id>")
@openapi.definition(summary="Delete a poll", response=204, secured=SECURED)
async def delete(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    await service.delete_poll(
        redis=request.app.ctx.redis.client,
        principal=principal,
        poll_id=service.parse_poll_id(poll_id),
    )
    return empty()


@bp.get("/<poll_id>/results")
@openapi.definition(summary="Results, per results_visibility", secured=SECURED)
async def results(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.poll_results(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.post("/<poll_id>/votes")
@openapi.definition(
    body=VoteBody, summary="Vote (same rules as the WebSocket VOTE)", secured=SECURED
)
async def vote(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    body = json_object(request)
    result = await request.app.ctx.votes.cast(
        principal=principal,
        poll_id=service.parse_poll_id(poll_id),
        option_ids=body.get("option_ids"),
    )
    return json({"status": result.status, "seq": result.seq})
