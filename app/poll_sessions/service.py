"""The session lifecycle: create, list, read, patch, delete, present.

MySQL holds a session (the source of truth); every change bumps its `version` in one
`UPDATE ... version = version + 1` and publishes the new state on the session's
channel, from which every process hosting members of the session moves them
(app/ws/follow.py). A process that misses a message catches up by version: older
states are ignored, so a client never sees the version go backwards.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import orjson
from arq.connections import ArqRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app import keys
from app.errors import ApiError, Conflict, Forbidden, NotFound, invalid_field
from app.poll_sessions.schemas import CreateSession, PatchSession, Present, session_json
from app.polls import codes, ids, leaderboard
from app.polls import service as polls
from app.tokens import Principal
from models import Poll, PollStatus, Session

log = logging.getLogger("livepolls.poll_sessions")

CHANGED = "SESSION_CHANGED"
DELETED = "SESSION_DELETED"


def _conflict(message: str) -> ApiError:
    return Conflict(message, code="conflict")


def _require_registered(principal: Principal) -> None:
    if principal.is_guest:
        raise Forbidden("guests cannot manage sessions; register an account")


def parse_session_id(raw: str) -> int:
    session_id = ids.parse_poll_id(raw)  # the same id space and bounds as polls
    if session_id is None:
        raise NotFound("session not found")
    return session_id


async def find_session(*, session_id: int | None = None, code: str | None = None) -> Session:
    session = None
    if session_id is not None:
        session = await Session.get_or_none(id=session_id)
    elif code is not None and (normalized := codes.normalize(code)) is not None:
        session = await Session.get_or_none(code=normalized)
    if session is None:
        raise NotFound("session not found")
    return session


async def _owned(session_id: int, principal: Principal) -> Session:
    _require_registered(principal)
    session = await find_session(session_id=session_id)
    if session.owner_id != principal.user_id:
        raise Forbidden("only the session's owner may do this")
    return session


async def find_owned_session(*, principal: Principal, session_id: int) -> Session:
    """The session, for its owner only (a registered user): 404 unknown, 403 others."""
    return await _owned(session_id, principal)


async def poll_ids_of(session_id: int) -> list[int]:
    rows = (
        await Poll.filter(session_id=session_id)
        .order_by("session_position", "id")
        .values_list("id", flat=True)
    )
    return [int(r) for r in rows]  # type: ignore[call-overload]


async def session_payload(session: Session) -> dict[str, Any]:
    return session_json(session, await poll_ids_of(session.id))


async def _check_polls(poll_ids: list[int], user_id: int, session_id: int | None) -> None:
    """Every id names one of the caller's polls, none in another session. Checked here
    for a clear error; `_assign` checks again atomically, for concurrent requests."""
    rows = await Poll.filter(id__in=poll_ids, owner_id=user_id).values_list("id", "session_id")
    found = {int(pid): sid for pid, sid in rows}
    for i, poll_id in enumerate(poll_ids):
        if poll_id not in found:
            raise NotFound(f"poll_ids[{i}]: no poll of yours has the id {poll_id}")
    for poll_id in poll_ids:
        if found[poll_id] not in (None, session_id):
            raise _conflict(f"poll {poll_id} belongs to another session; remove it there first")


async def _assign(session_id: int, poll_ids: list[int], conn: BaseDBAsyncClient) -> None:
    """Make `poll_ids` the session's polls in this order, on the caller's transaction
    `conn`; a poll another session took meanwhile fails it (and the caller rolls back)."""
    await (
        Poll.filter(session_id=session_id)
        .exclude(id__in=poll_ids)
        .using_db(conn)
        .update(session_id=None, session_position=None)
    )
    for position, poll_id in enumerate(poll_ids):
        free = Q(session_id__isnull=True) | Q(session_id=session_id)
        moved = (
            await Poll.filter(free, id=poll_id)
            .using_db(conn)
            .update(session_id=session_id, session_position=position)
        )
        # MySQL counts changed rows, not matched ones: a poll already in its place is 0.
        if (
            not moved
            and not await Poll.filter(id=poll_id, session_id=session_id, session_position=position)
            .using_db(conn)
            .exists()
        ):
            raise _conflict(f"poll {poll_id} belongs to another session; remove it there first")


async def create_session(
    *, redis: Redis, principal: Principal, body: CreateSession
) -> dict[str, Any]:
    """A new session with a code no poll and no other session has."""
    _require_registered(principal)
    await _check_polls(body.poll_ids, principal.user_id, None)
    for _ in range(codes.MAX_ATTEMPTS):
        code = codes.new_code()
        if await Poll.exists(code=code):
            continue
        try:
            async with in_transaction() as conn:
                session = await Session.create(
                    id=ids.new_poll_id(),
                    owner_id=principal.user_id,
                    code=code,
                    title=body.title,
                    using_db=conn,
                )
                await _assign(session.id, body.poll_ids, conn)
            break
        except IntegrityError:
            continue  # a code or id collision: drawn again
    else:
        raise ApiError("could not allocate a join code; try again", code="unavailable", status=503)
    log.info("session created", extra={"session_id": session.id})
    await polls.announce_placement(redis, body.poll_ids)
    return await session_payload(session)


async def list_sessions(
    *, principal: Principal, limit: int, offset: int, q: str | None
) -> dict[str, Any]:
    _require_registered(principal)
    query = Session.filter(owner_id=principal.user_id)
    if q:
        query = query.filter(title__icontains=q)
    total = await query.count()
    sessions = await query.order_by("-created_at", "-id").offset(offset).limit(limit)
    by_session: dict[int, list[int]] = {s.id: [] for s in sessions}
    rows = (
        await Poll.filter(session_id__in=list(by_session))
        .order_by("session_position", "id")
        .values_list("id", "session_id")
    )
    for poll_id, session_id in rows:
        by_session[int(session_id)].append(int(poll_id))
    return {"items": [session_json(s, by_session[s.id]) for s in sessions], "total": total}


async def current_poll(session: dict[str, Any], user_id: int | None) -> Poll | None:
    """The session's current poll as this caller may see it (None: the waiting screen;
    a draft shows to the owner only, though presenting opens it)."""
    current = session["current_poll_id"]
    poll = await Poll.get_or_none(id=current) if current is not None else None
    if poll is not None and poll.status == PollStatus.DRAFT and user_id != poll.owner_id:  # type: ignore[attr-defined]
        return None
    return poll


async def session_view(*, redis: Redis, principal: Principal, session: Session) -> dict[str, Any]:
    """`{"session", "poll", "results", "my_vote"}`: the session and its current poll."""
    payload = await session_payload(session)
    poll = await current_poll(payload, principal.user_id)
    if poll is None:
        return {"session": payload, "poll": None, "results": None, "my_vote": None}
    return {
        "session": payload,
        **await polls.poll_view(redis=redis, principal=principal, poll=poll),
    }


def _board_loader(session_id: int) -> leaderboard.Loader:
    async def load() -> tuple[list[Poll], int | None]:
        session = await find_session(session_id=session_id)
        return await Poll.filter(session_id=session.id), session.owner_id

    return load


async def session_leaderboard(
    *, boards: leaderboard.Boards, principal: Principal, session_id: int, limit: int, offset: int
) -> dict[str, Any]:
    """The scores over the session's quizzes (app/polls/leaderboard.py)."""
    return await leaderboard.scope_leaderboard(
        boards=boards,
        scope=("session", session_id),
        load=_board_loader(session_id),
        user_id=principal.user_id,
        limit=limit,
        offset=offset,
    )


async def owner_session_leaderboard_csv(
    *, boards: leaderboard.Boards, principal: Principal, session_id: int
) -> str:
    await _owned(session_id, principal)  # 403 / 404 as ever
    return await leaderboard.scope_csv(
        boards=boards,
        scope=("session", session_id),
        load=_board_loader(session_id),
        user_id=principal.user_id,
    )


async def version_of(session_id: int) -> int | None:
    """The session's version now (None: no such session)."""
    rows = await Session.filter(id=session_id).values_list("version", flat=True)
    return int(rows[0]) if rows else None  # type: ignore[call-overload]


async def load_state(session_id: int) -> dict[str, Any] | None:
    """The state the rooms show, as published (`SESSION_CHANGED`); None: no session.
    Read by a process that starts hosting the session and after a pub/sub reconnect."""
    session = await Session.get_or_none(id=session_id)
    if session is None:
        return None
    payload = await session_payload(session)
    poll = (
        await Poll.get_or_none(id=payload["current_poll_id"])
        if payload["current_poll_id"]
        else None
    )
    return {
        "type": CHANGED,
        "session": payload,
        "poll": await polls.poll_payload(poll) if poll is not None else None,
    }


async def _changed(redis: Redis, session_id: int, **fields: Any) -> dict[str, Any]:
    """Bump the version with `fields` in one UPDATE, then publish the state it made."""
    await Session.filter(id=session_id).update(version=F("version") + 1, **fields)
    state = await load_state(session_id)
    if state is None:  # deleted meanwhile
        raise NotFound("session not found")
    try:
        await redis.publish(keys.session_channel(redis, session_id), orjson.dumps(state))
    except RedisError as exc:
        # The change is made (MySQL): answering an error would invite a retry, and a
        # retried "next" would move twice. Rooms read the state again when their
        # pub/sub reconnects (app/ws/follow.py resync), as after any missed message.
        log.warning("session %d changed but not published: %s", session_id, exc)
    return dict(state["session"])


async def poll_deleted(*, redis: Redis, session_id: int, poll_id: int) -> None:
    """A poll of the session was deleted: its rooms are shown the list without it (the
    waiting screen if it was the one shown)."""
    session = await Session.get_or_none(id=session_id)
    if session is None:
        return
    fields = {"current_poll_id": None} if session.current_poll_id == poll_id else {}
    with contextlib.suppress(NotFound):  # the session went too
        await _changed(redis, session_id, **fields)


async def patch_session(
    *, redis: Redis, principal: Principal, session_id: int, body: PatchSession
) -> dict[str, Any]:
    """Rename, reorder, add or remove polls; a current poll removed leaves the
    waiting screen."""
    session = await _owned(session_id, principal)
    sent = body.model_dump(exclude_unset=True)
    for field, value in sent.items():
        if value is None:
            raise invalid_field(field, "may not be null")
    fields: dict[str, Any] = {}
    if body.title is not None:
        fields["title"] = body.title
    moved: list[int] = []
    if body.poll_ids is not None:
        await _check_polls(body.poll_ids, principal.user_id, session.id)
        before = await poll_ids_of(session.id)
        async with in_transaction() as conn:
            await _assign(session.id, body.poll_ids, conn)
        if session.current_poll_id not in body.poll_ids:
            fields["current_poll_id"] = None
        moved = _moved(before, body.poll_ids)
    changed = await _changed(redis, session.id, **fields)
    await polls.announce_placement(redis, moved)
    return changed


def _moved(before: list[int], after: list[int]) -> list[int]:
    """The polls whose place (`session_id`, `session_position`) a new list changes."""
    was = {poll_id: i for i, poll_id in enumerate(before)}
    now = {poll_id: i for i, poll_id in enumerate(after)}
    return sorted(p for p in was.keys() | now.keys() if was.get(p) != now.get(p))


def _step(poll_ids: list[int], current: int | None, last: int | None, step: str) -> int:
    """next/previous from the current poll; from the waiting screen, next goes on after
    the poll shown last (or starts at the first) and previous shows that poll again."""
    if current is not None:
        target = poll_ids.index(current) + (1 if step == "next" else -1)
    elif last is not None:
        target = poll_ids.index(last) + (1 if step == "next" else 0)
    else:
        target = 0 if step == "next" else -1
    if not 0 <= target < len(poll_ids):
        raise _conflict(f"there is no {step} poll in this session")
    return poll_ids[target]


async def present(
    *, redis: Redis, arq: ArqRedis, principal: Principal, session_id: int, body: Present
) -> dict[str, Any]:
    """Show a poll (a draft is opened, as `POST /polls/{id}/open` does), step to the
    next or previous one, or show the waiting screen (`poll_id: null`)."""
    session = await _owned(session_id, principal)
    sent = body.model_fields_set
    if len(sent) != 1:
        raise invalid_field("body", "send exactly one of poll_id and step")
    poll_ids = await poll_ids_of(session.id)
    current = session.current_poll_id if session.current_poll_id in poll_ids else None
    last = session.last_poll_id if session.last_poll_id in poll_ids else None
    if "step" in sent:
        if body.step is None:
            raise invalid_field("step", "must be next or previous")
        target: int | None = _step(poll_ids, current, last, body.step)
    else:
        target = body.poll_id
        if target is not None and target not in poll_ids:
            raise _conflict(f"poll {target} is not a poll of this session")
    if target is not None:
        poll = await Poll.get(id=target)
        if poll.status == PollStatus.DRAFT:
            try:
                await polls.open_poll(redis=redis, arq=arq, principal=principal, poll_id=target)
            except Conflict:
                if (await Poll.get(id=target)).status == PollStatus.DRAFT:
                    raise
                # opened by a concurrent request: shown all the same
    fields: dict[str, Any] = {"current_poll_id": target}
    if target is not None:
        fields["last_poll_id"] = target
    return await _changed(redis, session.id, **fields)


async def delete_session(*, redis: Redis, principal: Principal, session_id: int) -> None:
    """Its polls stay, standalone; members of its rooms are told `LEFT_SESSION`."""
    session = await _owned(session_id, principal)
    freed = await poll_ids_of(session.id)
    async with in_transaction() as conn:
        await (
            Poll.filter(session_id=session.id)
            .using_db(conn)
            .update(session_id=None, session_position=None)
        )
        await session.delete(using_db=conn)
    log.info("session deleted", extra={"session_id": session.id})
    await redis.publish(
        keys.session_channel(redis, session.id),
        orjson.dumps({"type": DELETED, "session_id": session.id}),
    )
    await polls.announce_placement(redis, freed)
