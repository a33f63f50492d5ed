"""Session routes (docs/protocol.md "Sessions"): parse, call one service, shape the reply."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json, text

from app.http.bodies import SEARCH_MAX, PageQuery, parse_body, parse_query
from app.http.docs import api, link
from app.http.headers import attachment, never_cached
from app.poll_sessions import export, service
from app.poll_sessions.replies import Session, SessionList, SessionView
from app.poll_sessions.schemas import CreateSession, PatchSession, Present
from app.polls.export import CONTENT_TYPE
from app.polls.replies import Leaderboard
from app.tokens import Principal

bp = Blueprint("poll_sessions", url_prefix="/sessions")
never_cached(bp)

BY_ID = {"session_id": "$response.body#/id"}
CREATED_LINKS = {
    "GetSession": link("getSession", "the new session", **BY_ID),
    "GetSessionByCode": link(
        "getSessionByCode", "the new session by its code", code="$response.body#/code"
    ),
    "PatchSession": link("patchSession", "rename or reorder it", **BY_ID),
    "PresentSession": link("presentSession", "present one of its polls", **BY_ID),
    "DeleteSession": link("deleteSession", "delete it", **BY_ID),
    "ExportSessionResults": link("exportSessionResults", "its results as CSV", **BY_ID),
}


class ListQuery(PageQuery):
    q: (
        Annotated[
            str, Field(max_length=SEARCH_MAX, description="a case-insensitive part of the title")
        ]
        | None
    ) = None


@bp.post("")
@api(
    "createSession",
    "Create a session (registered users)",
    status=201,
    reply=Session,
    body=CreateSession,
    errors=(403, 404, 409),
    secured=True,
    links=CREATED_LINKS,
)
async def create(request: Request, principal: Principal) -> HTTPResponse:
    body = parse_body(request, CreateSession)
    session = await service.create_session(
        redis=request.app.ctx.redis.client, principal=principal, body=body
    )
    return json(session, status=201)


@bp.get("")
@api(
    "listSessions",
    "My sessions, newest first",
    reply=SessionList,
    query=ListQuery,
    errors=(403, 422),
    secured=True,
)
async def list_mine(request: Request, principal: Principal) -> HTTPResponse:
    query = parse_query(request, ListQuery)
    return json(
        await service.list_sessions(
            principal=principal, limit=query.limit, offset=query.offset, q=query.q
        )
    )


@bp.get("/<session_id>")
@api(
    "getSession",
    "A session, its current poll, that poll's results (when visible) and my vote",
    reply=SessionView,
    errors=(404,),
    secured=True,
)
async def get_session(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    session = await service.find_session(session_id=service.parse_session_id(session_id))
    return json(
        await service.session_view(
            redis=request.app.ctx.redis.client, principal=principal, session=session
        )
    )


@bp.get("/code/<code>")
@api(
    "getSessionByCode",
    "A session by its join code (case-insensitive)",
    reply=SessionView,
    errors=(404,),
    secured=True,
)
async def get_by_code(request: Request, code: str, principal: Principal) -> HTTPResponse:
    session = await service.find_session(code=code)
    return json(
        await service.session_view(
            redis=request.app.ctx.redis.client, principal=principal, session=session
        )
    )


@bp.get("/<session_id>/leaderboard")
@api(
    "getSessionLeaderboard",
    "The scores over the session's quizzes, highest first",
    reply=Leaderboard,
    query=PageQuery,
    description="each closed quiz of the session counts once final (docs/protocol.md "
    '"Quiz"); a session without quizzes has an empty board',
    errors=(404, 422),
    secured=True,
)
async def get_leaderboard(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    query = parse_query(request, PageQuery)
    return json(
        await service.session_leaderboard(
            boards=request.app.ctx.boards,
            principal=principal,
            session_id=service.parse_session_id(session_id),
            limit=query.limit,
            offset=query.offset,
        )
    )


@bp.patch("/<session_id>")
@api(
    "patchSession",
    "Rename, reorder, add or remove polls (owner)",
    reply=Session,
    body=PatchSession,
    errors=(403, 404, 409),
    secured=True,
)
async def patch(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    body = parse_body(request, PatchSession)
    return json(
        await service.patch_session(
            redis=request.app.ctx.redis.client,
            principal=principal,
            session_id=service.parse_session_id(session_id),
            body=body,
        )
    )


@bp.delete("/<session_id>")
@api(
    "deleteSession",
    "Delete a session (owner); its polls stay, standalone",
    status=204,
    description="deleted",
    errors=(403, 404),
    secured=True,
)
async def delete(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    await service.delete_session(
        redis=request.app.ctx.redis.client,
        principal=principal,
        session_id=service.parse_session_id(session_id),
    )
    return empty()


@bp.post("/<session_id>/present")
@api(
    "presentSession",
    "Present a poll of the session, step next/previous, or show the waiting screen (owner)",
    reply=Session,
    body=Present,
    errors=(403, 404, 409),
    secured=True,
)
async def present(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    body = parse_body(request, Present)
    ctx = request.app.ctx
    return json(
        await service.present(
            redis=ctx.redis.client,
            arq=ctx.arq,
            principal=principal,
            session_id=service.parse_session_id(session_id),
            body=body,
        )
    )


@bp.get("/<session_id>/leaderboard.csv")
@api(
    "exportSessionLeaderboard",
    "The scores over the session's quizzes as CSV: rank,user_id,name,points,correct,"
    "answered (owner)",
    reply="text/csv",
    description="every participant, best first, after a header row",
    errors=(403, 404),
    secured=True,
)
async def leaderboard_csv(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    session = service.parse_session_id(session_id)
    body = await service.owner_session_leaderboard_csv(
        boards=request.app.ctx.boards, principal=principal, session_id=session
    )
    return text(
        body, content_type=CONTENT_TYPE, headers=attachment(f"session-{session}-leaderboard.csv")
    )


@bp.get("/<session_id>/results.csv")
@api(
    "exportSessionResults",
    "Results of every poll of the session as one CSV (owner)",
    reply="text/csv",
    description="poll_id,poll_position,question,status,option_id,label,position,count: "
    "one row per option of every poll in the session's order, drafts counting 0",
    errors=(403, 404),
    secured=True,
)
async def results_csv(request: Request, session_id: str, principal: Principal) -> HTTPResponse:
    session = service.parse_session_id(session_id)
    body = await export.owner_session_csv(
        redis=request.app.ctx.redis.client, principal=principal, session_id=session
    )
    return text(
        body, content_type=CONTENT_TYPE, headers=attachment(f"session-{session}-results.csv")
    )
