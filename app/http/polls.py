"""Poll routes (PROTOCOL.md "Polls"): parse, call one service, shape the reply."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json, text

from app.http.bodies import SEARCH_MAX, PageQuery, json_object, parse_body, parse_query
from app.http.docs import api, link
from app.http.headers import attachment, never_cached
from app.polls import export, leaderboard, service
from app.polls.replies import (
    ClosedPoll,
    Leaderboard,
    Poll,
    PollList,
    PollView,
    Results,
    VoteReceipt,
)
from app.polls.schemas import Countdown, CreatePoll, PatchPoll
from app.tokens import Principal
from app.votes import MAX_OPTION_ID, MAX_RATING

bp = Blueprint("polls", url_prefix="/polls")
never_cached(bp)

BY_ID = {"poll_id": "$response.body#/id"}
# Every operation on the poll POST /polls creates (for clients and stateful testing).
CREATED_LINKS = {
    "GetPoll": link("getPoll", "the new poll", **BY_ID),
    "GetPollByCode": link("getPollByCode", "the new poll by its code", code="$response.body#/code"),
    "PatchPoll": link("patchPoll", "edit it while a draft", **BY_ID),
    "OpenPoll": link("openPoll", "open the draft", **BY_ID),
    "ClosePoll": link("closePoll", "close it", **BY_ID),
    "ReopenPoll": link("reopenPoll", "open it again once closed", **BY_ID),
    "ResetResults": link("resetResults", "zero its final results", **BY_ID),
    "DeletePoll": link("deletePoll", "delete it", **BY_ID),
    "DuplicatePoll": link("duplicatePoll", "a new draft like it", **BY_ID),
    "HideResults": link("hideResults", "hide its counts", **BY_ID),
    "RevealResults": link("revealResults", "reveal its counts", **BY_ID),
    "GetResults": link("getResults", "its results", **BY_ID),
    "ExportResults": link("exportResults", "its results as CSV", **BY_ID),
    "ExportBallots": link("exportBallots", "its ballots as CSV", **BY_ID),
    "Vote": {
        **link("vote", "vote for its first option", **BY_ID),
        "requestBody": {"option_ids": ["$response.body#/options/0/id"]},
    },
}


class ListQuery(PageQuery):
    q: (
        Annotated[
            str,
            Field(max_length=SEARCH_MAX, description="a case-insensitive part of the question"),
        ]
        | None
    ) = None
    status: (
        Annotated[
            Literal["draft", "open", "closed"],
            Field(description="only polls in this status (as `Poll.status` shows it)"),
        ]
        | None
    ) = None


class VoteBody(BaseModel):
    """A choice or ranking ballot (a ranking's ids in order, first choice first). The
    name is the one this body had before ratings: generated clients keep working.
    Other properties are ignored, as they always were, but `rating` (one or the other)."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["rating"]}})

    option_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_OPTION_ID)]],
        Field(min_length=1, json_schema_extra={"uniqueItems": True}),
    ]


class RatingVote(BaseModel):
    """A rating poll's ballot."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["option_ids"]}})

    rating: Annotated[int, Field(ge=1, le=MAX_RATING, description="1..the poll's scale")]


class AnyBallot(RootModel[VoteBody | RatingVote]):
    """Documentation of the ballot (app.votes.ballot_of checks it, for WebSocket too)."""


@bp.post("")
@api(
    "createPoll",
    "Create a poll (registered users)",
    status=201,
    reply=Poll,
    body=CreatePoll,
    errors=(403, 429, 503),
    secured=True,
    links=CREATED_LINKS,
)
async def create(request: Request, principal: Principal) -> HTTPResponse:
    body = parse_body(request, CreatePoll)
    ctx = request.app.ctx
    poll = await service.create_poll(
        settings=ctx.settings, redis=ctx.redis.client, arq=ctx.arq, principal=principal, body=body
    )
    return json(poll, status=201)


@bp.get("")
@api(
    "listPolls",
    "My polls, newest first",
    reply=PollList,
    query=ListQuery,
    errors=(403, 422),
    secured=True,
)
async def list_mine(request: Request, principal: Principal) -> HTTPResponse:
    query = parse_query(request, ListQuery)
    return json(
        await service.list_polls(
            principal=principal,
            limit=query.limit,
            offset=query.offset,
            q=query.q,
            status=query.status,
        )
    )


@bp.get("/<poll_id>")
@api(
    "getPoll",
    "A poll, its results (when visible) and my vote",
    reply=PollView,
    errors=(404,),
    secured=True,
)
async def get_poll(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    poll = await service.find_readable_poll(
        principal=principal, poll_id=service.parse_poll_id(poll_id)
    )
    return json(
        await service.poll_view(redis=request.app.ctx.redis.client, principal=principal, poll=poll)
    )


@bp.get("/code/<code>")
@api(
    "getPollByCode",
    "A poll by its join code (case-insensitive)",
    reply=PollView,
    errors=(404,),
    secured=True,
)
async def get_by_code(request: Request, code: str, principal: Principal) -> HTTPResponse:
    poll = await service.find_readable_poll(principal=principal, code=code)
    return json(
        await service.poll_view(redis=request.app.ctx.redis.client, principal=principal, poll=poll)
    )


@bp.patch("/<poll_id>")
@api(
    "patchPoll",
    "Edit a draft, or fix the wording of an open or closed poll (owner)",
    reply=Poll,
    body=PatchPoll,
    description="the poll as edited; fields not sent keep their values. Once open (or "
    "closed) only `question` and `options` (one label per option, in position order) may "
    "change",
    errors=(403, 404, 409),
    secured=True,
)
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
@api(
    "openPoll",
    "Open a draft (owner)",
    reply=Poll,
    errors=(403, 404, 409, 422),
    secured=True,
)
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
@api(
    "closePoll",
    "Close now (owner); a closed poll returns its final results",
    reply=ClosedPoll,
    errors=(403, 404, 409),
    secured=True,
)
async def close(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.close_poll(
            redis=request.app.ctx.redis.client,
            arq=request.app.ctx.arq,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.post("/<poll_id>/reset")
@api(
    "resetResults",
    "Zero a closed poll's final results, recorded; its ballots are deleted (owner)",
    reply=ClosedPoll,
    errors=(403, 404, 409),
    secured=True,
)
async def reset(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.reset_results(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.post("/<poll_id>/reopen")
@api(
    "reopenPoll",
    "Take votes on a closed poll again, its ballots and counts kept (owner)",
    reply=Poll,
    errors=(403, 404, 409),
    secured=True,
)
async def reopen(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.reopen_poll(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.post("/<poll_id>/duplicate")
@api(
    "duplicatePoll",
    "A new draft with the same question, options and settings (owner)",
    status=201,
    reply=Poll,
    errors=(403, 404, 429),
    secured=True,
)
async def duplicate(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    ctx = request.app.ctx
    poll = await service.duplicate_poll(
        settings=ctx.settings,
        redis=ctx.redis.client,
        arq=ctx.arq,
        principal=principal,
        poll_id=service.parse_poll_id(poll_id),
    )
    return json(poll, status=201)


@bp.post("/<poll_id>/hide")
@api(
    "hideResults",
    "Hide the counts from everyone but the owner (owner, any status)",
    reply=Poll,
    errors=(403, 404),
    secured=True,
)
async def hide(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.set_results_hidden(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
            hidden=True,
        )
    )


@bp.post("/<poll_id>/reveal")
@api(
    "revealResults",
    "Show the counts again, per results_visibility (owner)",
    reply=Poll,
    errors=(403, 404),
    secured=True,
)
async def reveal(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.set_results_hidden(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
            hidden=False,
        )
    )


@bp.post("/<poll_id>/countdown")
@api(
    "countdown",
    "Close the open poll `seconds` from now, by the server's clock (owner)",
    reply=Poll,
    body=Countdown,
    errors=(403, 404, 409),
    secured=True,
)
async def countdown(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    poll = service.parse_poll_id(poll_id)  # an id that names no poll is 404 whatever the body
    body = parse_body(request, Countdown)
    ctx = request.app.ctx
    return json(
        await service.start_countdown(
            redis=ctx.redis.client, arq=ctx.arq, principal=principal, poll_id=poll, body=body
        )
    )


@bp.delete("/<poll_id>")
@api(
    "deletePoll",
    "Delete a poll (owner)",
    status=204,
    description="deleted",
    errors=(403, 404),
    secured=True,
)
async def delete(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    await service.delete_poll(
        redis=request.app.ctx.redis.client,
        principal=principal,
        poll_id=service.parse_poll_id(poll_id),
    )
    return empty()


@bp.get("/<poll_id>/results")
@api(
    "getResults",
    "Results, per results_visibility (the owner always)",
    reply=Results,
    errors=(403, 404, 409),
    secured=True,
)
async def results(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    return json(
        await service.poll_results(
            redis=request.app.ctx.redis.client,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
        )
    )


@bp.get("/<poll_id>/leaderboard")
@api(
    "getPollLeaderboard",
    "A quiz's scores, highest first, once it is closed",
    reply=Leaderboard,
    query=PageQuery,
    description='points by correctness and speed (docs/protocol.md "Quiz"); 409 for a '
    "poll that is not a quiz",
    errors=(404, 409, 422),
    secured=True,
)
async def get_leaderboard(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    query = parse_query(request, PageQuery)
    return json(
        await leaderboard.poll_leaderboard(
            boards=request.app.ctx.boards,
            principal=principal,
            poll_id=service.parse_poll_id(poll_id),
            limit=query.limit,
            offset=query.offset,
        )
    )


@bp.get("/<poll_id>/leaderboard.csv")
@api(
    "exportPollLeaderboard",
    "A quiz's scores as CSV: rank,user_id,name,points,correct,answered (owner)",
    reply="text/csv",
    description="every participant, best first, after a header row; 409 for a poll that "
    "is not a quiz",
    errors=(403, 404, 409),
    secured=True,
)
async def leaderboard_csv(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    poll = service.parse_poll_id(poll_id)
    body = await leaderboard.owner_poll_leaderboard_csv(
        boards=request.app.ctx.boards, principal=principal, poll_id=poll
    )
    return text(
        body, content_type=export.CONTENT_TYPE, headers=attachment(f"poll-{poll}-leaderboard.csv")
    )


@bp.get("/<poll_id>/results.csv")
@api(
    "exportResults",
    "Results as CSV: option_id,label,position,count,points,average,correct (owner)",
    reply="text/csv",
    description="one row per option in position order, after a header row",
    errors=(403, 404, 409),
    secured=True,
)
async def results_csv(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    poll = service.parse_poll_id(poll_id)
    body = await export.owner_results_csv(
        redis=request.app.ctx.redis.client, principal=principal, poll_id=poll
    )
    return text(
        body, content_type=export.CONTENT_TYPE, headers=attachment(f"poll-{poll}-results.csv")
    )


@bp.get("/<poll_id>/ballots.csv")
@api(
    "exportBallots",
    "Ballots as CSV: user_id,option_ids,seq,cast_at (owner), streamed",
    reply="text/csv",
    description="one row per voter in seq order, after a header row; the ballots the "
    "workers have persisted (all of them once a closed poll is finalized)",
    errors=(403, 404),
    secured=True,
)
async def ballots_csv(request: Request, poll_id: str, principal: Principal) -> None:
    poll = service.parse_poll_id(poll_id)
    chunks = await export.owner_ballots_csv(principal=principal, poll_id=poll)
    # The first page is read before the status line: a database failure there is still
    # a clean 503. One later is a cut chunked body, which no client takes for a file.
    first = await anext(chunks)
    response = await request.respond(
        content_type=export.CONTENT_TYPE, headers=attachment(f"poll-{poll}-ballots.csv")
    )
    await response.send(first)
    async for chunk in chunks:
        await response.send(chunk)
    await response.eof()


@bp.post("/<poll_id>/votes")
@api(
    "vote",
    "Vote (same rules as the WebSocket VOTE)",
    reply=VoteReceipt,
    body=AnyBallot,
    errors=(403, 404, 409),
    secured=True,
)
async def vote(request: Request, poll_id: str, principal: Principal) -> HTTPResponse:
    body = json_object(request)
    result = await request.app.ctx.votes.cast(
        principal=principal, poll_id=service.parse_poll_id(poll_id), body=body
    )
    return json({"status": result.status, "seq": result.seq})
