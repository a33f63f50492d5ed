"""Client → server messages of PROTOCOL.md: parse, check, dispatch, reply.

A bad message gets an `ERROR` and the socket stays open; after
`ws_max_bad_messages` of them the socket is closed with 1008. Service errors carry
the same `code` as on HTTP (app/errors.py); request-shape problems are
`bad_message`.

`AUTH` renews a socket's token in band (an extension of PROTOCOL.md): a client that
renewed its session sends the new access token before the old one expires, and the
socket carries on with its rooms, presence and pending replies, instead of being
closed with 4401 at expiry and reconnecting. The token must be valid and of the
socket's own user; a refused one is an `ERROR` and the socket keeps its old token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.clock import server_now_ms
from app.context import AppContext
from app.db import is_outage
from app.errors import ApiError, Forbidden
from app.kinds import Shape
from app.polls import codes, ids, service
from app.polls.schemas import Tally, results_json
from app.polls.state import my_ballot, read_snapshot
from app.votes import VoteResult, ballot_of
from app.ws.connection import CLOSE_POLICY, Connection
from app.ws.frames import message_frame

log = logging.getLogger("livepolls.ws")

MAX_REF = 64
MAX_TOKEN = 4096
# While Redis fails, say so at most this often (with how many messages it failed).
REDIS_LOG_EVERY_S = 30.0
# Redis away (down, hung, loading, a replica after a failover), not a bug of ours: an
# error reply such as a failing script still gets its traceback.
REDIS_OUTAGE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError)


class BadMessage(ApiError):
    code = "bad_message"


def _ref(message: dict[str, Any]) -> str | None:
    ref = message.get("ref")
    if ref is None:
        return None
    if not isinstance(ref, str) or len(ref) > MAX_REF:
        raise BadMessage(f"ref must be a string of at most {MAX_REF} characters")
    return ref


def _parse(raw: str | bytes) -> dict[str, Any]:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadMessage("messages are JSON objects") from None
    if not isinstance(message, dict):
        raise BadMessage("messages are JSON objects")
    return message


def _poll_id(
    message: dict[str, Any], *, required: bool = True, name: str = "poll_id"
) -> int | None:
    """The message's `poll_id` (or `session_id`: the same id space and bounds)."""
    value = message.get(name)
    if value is None and not required:
        return None
    poll_id = ids.parse_poll_id(value)
    if type(value) is not int or poll_id is None:
        raise BadMessage(f"{name} must be a positive integer")
    return poll_id


def _code(message: dict[str, Any], what: str) -> str:
    """The message's join `code` of a `what` ("poll", "session"), normalized; a code
    that cannot exist is not_found."""
    code = message.get("code")
    if not isinstance(code, str) or len(code) > 16:
        raise BadMessage(f"JOIN_{what.upper()} needs {what}_id (integer) or code (string)")
    normalized = codes.normalize(code)
    if normalized is None:
        raise ApiError(f"{what} not found", code="not_found")
    return normalized


VIEWS = ("participant", "projector")


def is_projector(message: dict[str, Any]) -> bool:
    """The optional `view` of JOIN_POLL (and JOIN_SESSION): absent or "participant", or
    "projector" (counts as the room may see them, whoever's token; no viewer)."""
    if "view" not in message:
        return False
    view = message["view"]
    if view not in VIEWS or not isinstance(view, str):
        raise BadMessage('view must be "participant" or "projector"')
    return view == "projector"


def _readable(poll: dict[str, Any], user_id: int) -> bool:
    return bool(poll["status"] != "draft" or poll["owner_id"] == user_id)


class MessageHandler:
    """Routes one connection's messages; one instance per process."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._outage_failures = 0
        self._outage_logged_at = -REDIS_LOG_EVERY_S

    async def handle(self, conn: Connection, raw: str | bytes) -> None:
        """Parsed before the rate limit is checked, so that even `rate_limited` echoes
        the message's `ref` (a flood is closed by the budget long before parsing it
        could cost much: see Connection.over_limit)."""
        ref = None
        try:
            message = _parse(raw)
            ref = _ref(message)
        except ApiError as exc:
            refusal: ApiError | None = exc
        else:
            refusal = None
        if not conn.take_token():
            conn.over_limit()
            self.error(conn, ref, "rate_limited", "slow down: too many messages")
        elif refusal is not None:
            await self._refused(conn, None, refusal)
        else:
            await self._answer(conn, ref, self._dispatch(conn, message, ref))

    async def _dispatch(self, conn: Connection, message: dict[str, Any], ref: str | None) -> None:
        kind = message.get("type")
        if kind == "VOTE":
            await self.vote(conn, message, ref)
        elif kind == "JOIN_POLL":
            await self.join(conn, message, ref)
        elif kind == "LEAVE_POLL":
            await self.leave(conn, message, ref)
        elif kind == "JOIN_SESSION":
            await self.join_session(conn, message, ref)
        elif kind == "LEAVE_SESSION":
            await self.leave_session(conn, message, ref)
        elif kind == "AUTH":
            await self.auth(conn, message, ref)
        elif kind == "PING":
            self.reply(conn, {"type": "PONG", "ref": ref})
        elif isinstance(kind, str):
            raise ApiError(f"unknown message type {kind[:40]!r}", code="unknown_type")
        else:
            raise BadMessage("type must be a string")

    async def _answer(self, conn: Connection, ref: str | None, work: Awaitable[None]) -> None:
        """Run one message's work; whatever it raises becomes the client's ERROR."""
        try:
            await work
        except ApiError as exc:
            await self._refused(conn, ref, exc)
        except REDIS_OUTAGE as exc:
            self._outage(exc)
            self.error(conn, ref, "internal_error", "temporarily unavailable, try again")
        except Exception as exc:
            if is_outage(exc):  # the database is down: a JOIN of a room not hosted here
                self._outage(exc, dependency="the database")
                self.error(conn, ref, "internal_error", "temporarily unavailable, try again")
                return
            log.exception("error handling a WebSocket message")
            self.error(conn, ref, "internal_error", "internal error")

    def _outage(self, exc: Exception, dependency: str = "Redis") -> None:
        """An outage (Redis, the database) fails every message of every socket: one line
        now and then, not a traceback per vote, which would bury the log (and the disk)
        in seconds. Failures of both are counted together."""
        self._outage_failures += 1
        now = time.monotonic()
        if now - self._outage_logged_at >= REDIS_LOG_EVERY_S:
            log.warning(
                "%s failed %d message(s) since the last report: %s: %s",
                dependency,
                self._outage_failures,
                type(exc).__name__,
                exc,
            )
            self._outage_logged_at = now
            self._outage_failures = 0

    async def _refused(self, conn: Connection, ref: str | None, exc: ApiError) -> None:
        code = "bad_message" if exc.code == "validation_failed" else exc.code
        self.error(conn, ref, code, exc.message)
        if code in ("bad_message", "unknown_type"):
            conn.bad_messages += 1
            if conn.bad_messages >= self.ctx.settings.ws_max_bad_messages:
                await conn.close(CLOSE_POLICY, "too many bad messages")

    def vote_now(self, conn: Connection, raw: bytes, done: Callable[[], None]) -> bool:
        """A well-formed VOTE, handled without a task: sent to Redis in this tick's batch
        and acked from the reply's callback, then `done()`. Waking the socket's
        coroutine for the message and again for the reply cost about 5% of a web
        worker's CPU at 8k votes/s. False (nothing done, no token taken): anything
        else, which the socket's coroutine handles, errors included."""
        try:
            message = orjson.loads(raw)
            if type(message) is not dict or message.get("type") != "VOTE":
                return False
            ref = _ref(message)
            poll_id = _poll_id(message)
            ballot = ballot_of(message)
        except (orjson.JSONDecodeError, ApiError):
            return False
        assert poll_id is not None
        if not conn.take_token():
            return False
        reply = self.ctx.votes.submit(conn.principal, poll_id, ballot)
        reply.add_done_callback(
            lambda future: self._voted(conn, message, ref, poll_id, future, done)
        )
        return True

    def _voted(
        self,
        conn: Connection,
        message: dict[str, Any],
        ref: str | None,
        poll_id: int,
        reply: asyncio.Future[Any],
        done: Callable[[], None],
    ) -> None:
        try:
            failed = reply.cancelled() or reply.exception() is not None
            result = None if failed else self.ctx.votes.settle(reply.result())
            if result is None:  # NOSCRIPT, no poll state, Redis away: the full path decides
                self.ctx.hub.spawn(self._vote_again(conn, message, ref, done))
                return
            self._ack(conn, ref, poll_id, result)
        except ApiError as exc:  # a vote's own errors: never bad_message
            self.error(conn, ref, exc.code, exc.message)
        except Exception:
            log.exception("error acking a vote")
            self.error(conn, ref, "internal_error", "internal error")
        done()  # always, or the socket's later messages would wait forever

    async def _vote_again(
        self, conn: Connection, message: dict[str, Any], ref: str | None, done: Callable[[], None]
    ) -> None:
        try:
            await self._answer(conn, ref, self.vote(conn, message, ref))
        finally:
            done()

    def error(self, conn: Connection, ref: str | None, code: str, message: str) -> None:
        self.reply(conn, {"type": "ERROR", "ref": ref, "code": code, "message": message})

    def reply(self, conn: Connection, message: dict[str, Any]) -> None:
        conn.send(message_frame(message))

    async def vote(self, conn: Connection, message: dict[str, Any], ref: str | None) -> None:
        poll_id = _poll_id(message)
        assert poll_id is not None
        result = await self.ctx.votes.cast(principal=conn.principal, poll_id=poll_id, body=message)
        self._ack(conn, ref, poll_id, result)

    def _ack(self, conn: Connection, ref: str | None, poll_id: int, result: VoteResult) -> None:
        # Before the ack, so that a member that now sees counts (after_vote) has them
        # when it learns its vote counted.
        self.ctx.hub.voted(conn.principal.user_id, poll_id)
        self.reply(
            conn,
            {
                "type": "VOTE_ACK",
                "ref": ref,
                "poll_id": poll_id,
                "status": result.status,
                "seq": result.seq,
            },
        )

    async def auth(self, conn: Connection, message: dict[str, Any], ref: str | None) -> None:
        token = message.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            raise BadMessage(f"AUTH needs token, a string of at most {MAX_TOKEN} characters")
        principal = await self.ctx.verifier.verify(token)
        if principal.user_id != conn.principal.user_id:
            # Rooms, presence and ballots are the user's: another user opens its own socket.
            raise Forbidden("a socket keeps its user; open a new one for another user")
        self.ctx.hub.reauthenticate(conn, principal)
        expires_in = max(0, principal.expires_at - int(time.time()))
        self.reply(conn, {"type": "AUTHED", "ref": ref, "expires_in": expires_in})

    async def join(self, conn: Connection, message: dict[str, Any], ref: str | None) -> None:
        poll_id = _poll_id(message, required=False)
        code = message.get("code")
        projector = is_projector(message)
        hub, redis = self.ctx.hub, self.ctx.redis.client
        if poll_id is None:
            code = _code(message, "poll")
        room = hub.room_of(poll_id=poll_id, code=code)
        membership = conn.rooms.get(room.poll_id) if room is not None else None
        self._check_rooms(conn, rejoin=membership is not None and membership.via is None)
        user_id = conn.principal.user_id
        cached = room is not None and _readable(room.poll, user_id)
        if room is not None and cached:
            poll_payload = room.poll
        else:
            # Not hosted here, or a draft as cached: the database decides, since the
            # draft may have been opened a moment ago and its POLL_UPDATED be on its way.
            poll = await service.find_poll(poll_id=poll_id, code=code)
            poll_payload = await service.poll_payload(poll)
        # The room may be cached here because its owner joined it: check every caller.
        service.check_readable(
            status=poll_payload["status"], owner_id=poll_payload["owner_id"], user_id=user_id
        )
        stale = room.poll if room is not None and not cached else None
        room, viewers = await hub.enter(conn, poll_payload, projector=projector)
        if stale is not None and room.poll is stale:  # no POLL_UPDATED applied meanwhile
            room.poll = poll_payload  # the database's: newer than the cached draft
        poll_id = room.poll_id
        status = room.poll["status"]
        results = None
        tally: Tally | None = None
        mine = None
        seq = -1
        if status != "draft":
            snapshot = await read_snapshot(redis, self.ctx.redis.batch, poll_id, [user_id])
            if snapshot is not None:
                tally, mine = snapshot.tally, snapshot.ballot
            else:  # Redis lost the poll: rebuild it from the database
                tally = await service.current_tally(redis, await service.find_poll(poll_id=poll_id))
                mine = await my_ballot(redis, poll_id, user_id)
            if tally is not None:
                seq = tally.seq
                if hub.member_sees(conn, room, voted=mine is not None):
                    results = results_json(tally, status, Shape.of_json(room.poll))
        self.reply(
            conn,
            {
                "type": "JOINED",
                "ref": ref,
                "poll": room.poll,
                "results": results,
                "my_vote": mine,
                "viewers": viewers,
                "server_now": server_now_ms(),
            },
        )
        hub.shown(conn, room, seq)

    def _check_rooms(self, conn: Connection, *, rejoin: bool) -> None:
        held = self.ctx.hub.rooms_held(conn)
        if not rejoin and held >= self.ctx.settings.ws_max_rooms:
            raise ApiError(
                f"in {held} rooms already, the most a socket may be in: leave one first",
                code="too_many_rooms",
            )

    async def join_session(
        self, conn: Connection, message: dict[str, Any], ref: str | None
    ) -> None:
        """The reply, SESSION_STATE, is sent by the session room (app/ws/follow.py)."""
        session_id = _poll_id(message, required=False, name="session_id")
        code = _code(message, "session") if session_id is None else None
        projector = is_projector(message)
        rooms = self.ctx.hub.sessions
        known = session_id if session_id is not None else rooms.code_of(code or "")
        self._check_rooms(conn, rejoin=known is not None and known in conn.sessions)
        await rooms.join(conn, session_id=session_id, code=code, projector=projector, ref=ref)

    async def leave_session(
        self, conn: Connection, message: dict[str, Any], ref: str | None
    ) -> None:
        session_id = _poll_id(message, name="session_id")
        assert session_id is not None
        if not await self.ctx.hub.sessions.leave(conn, session_id):
            raise ApiError("you are not in that session", code="not_found")
        self.reply(conn, {"type": "LEFT_SESSION", "ref": ref, "session_id": session_id})

    async def leave(self, conn: Connection, message: dict[str, Any], ref: str | None) -> None:
        poll_id = _poll_id(message)
        assert poll_id is not None
        if not await self.ctx.hub.leave(conn, poll_id):
            raise ApiError("you are not in that room", code="not_found")
        self.reply(conn, {"type": "LEFT", "ref": ref, "poll_id": poll_id})
