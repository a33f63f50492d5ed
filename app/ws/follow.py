"""Session rooms: the audience follows the host from poll to poll, server-side.

A socket joins a session (`JOIN_SESSION`) once; whichever poll the host presents, the
process puts the session's local members into that poll's room itself (memberships
`via` the session: the same broadcast machinery as `JOIN_POLL`, one frame encoded per
room per flush), so "next" costs the audience no round trip at all. Each process
hosting members of a session subscribes to the session's channel, on which
app/poll_sessions/service.py publishes every change with its whole new state
(`SESSION_CHANGED`: the session and its current poll's payload).

One task per session room shows members the session's state, in order: a batch of
joiners, or everybody after a change. So a join never races a move, and what a member
is sent never goes back a version. A move reads the new poll's tally and every local
member's ballot in a few script calls (app/lua/snapshot.lua, `SNAPSHOT_CHUNK` members
each), and splices each member's `my_vote` into a frame otherwise encoded once.

Presence is per session: its members are counted once in the session's viewers
(`PRESENCE` with `session_id`), not in the viewers of the polls it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from redis.asyncio import Redis

from app import keys, metrics
from app.clock import server_now_ms
from app.errors import NotFound
from app.kinds import Shape
from app.poll_sessions import service as sessions
from app.polls import service as polls
from app.polls.schemas import results_json
from app.polls.state import Snapshot, read_snapshots
from app.redis_batch import RedisBatch
from app.ws.connection import Connection, Follower, Membership
from app.ws.frames import message_frame, text_frame
from app.ws.presence import Place, session_place
from models import Ballot, PollStatus

if TYPE_CHECKING:
    from app.ws.hub import Hub, Room

log = logging.getLogger("livepolls.ws.follow")

# A move that failed (Redis or the database away) is tried again after this long.
RETRY_S = 1.0
BALLOT_QUERY_CHUNK = 1000

# A member's view of the poll shown: its results (None: a draft), their seq, its ballot.
View = tuple[dict[str, Any] | None, int, list[int] | None]
NO_VIEW: View = (None, -1, None)


@dataclass(slots=True, eq=False)
class Pending:
    """A joiner waiting to be shown the session's state (its JOIN_SESSION's reply)."""

    conn: Connection
    ref: str | None
    reply: asyncio.Future[None]


@dataclass(slots=True, eq=False)
class SessionRoom:
    session_id: int
    # {"session": Session, "poll": Poll or None}, as published; None until loaded.
    state: dict[str, Any] | None = None
    members: dict[Connection, Follower] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)
    moved: bool = False  # the state changed since the ready members were shown it
    runner: asyncio.Task[None] | None = None
    loaded: asyncio.Future[None] | None = None
    viewers: int = -1
    viewers_sent: int = -1
    window: float = 0.05
    presence_timer: asyncio.Handle | None = None
    last_presence_flush: float = 0.0

    @property
    def version(self) -> int:
        return -1 if self.state is None else int(self.state["session"]["version"])

    def place(self) -> dict[str, int]:
        return {"session_id": self.session_id}

    def watchers(self) -> list[Connection]:
        return list(self.members)


class SessionRooms:
    """This process's session rooms; part of the hub (app/ws/hub.py), whose pub/sub
    connection carries the sessions' channels too."""

    def __init__(self, hub: Hub, redis: Redis, batch: RedisBatch) -> None:
        self._hub = hub
        self._redis = redis
        self._batch = batch
        self.rooms: dict[int, SessionRoom] = {}
        self._codes: dict[str, int] = {}

    # --- joining and leaving ------------------------------------------------------------

    async def join(
        self,
        conn: Connection,
        *,
        session_id: int | None,
        code: str | None,
        projector: bool,
        ref: str | None,
    ) -> None:
        """JOIN_SESSION: returns once the member was sent SESSION_STATE (by the room's
        task, see `_run`)."""
        if session_id is None:
            session_id = self.code_of(code or "")
            if session_id is None:
                session_id = (await sessions.find_session(code=code)).id
        sroom = await self._hosted(session_id)
        hub, user_id = self._hub, conn.principal.user_id
        before = sroom.members.get(conn)
        follower = Follower(projector, poll_id=before.poll_id if before is not None else None)
        sroom.members[conn] = conn.sessions[session_id] = follower
        counted = before is not None and not before.projector
        place = session_place(session_id)
        try:
            if not projector and not counted:
                viewers = await hub.presence.join(place, user_id)
                if sroom.viewers < 0:  # else the channel's PRESENCE, maybe newer (hub.enter)
                    sroom.viewers = viewers
            elif projector and counted:
                hub.spawn(hub.leave_redis(user_id, [place], []))
            if sroom.viewers < 0:
                sroom.viewers = await hub.presence.count(place)
            reply = asyncio.get_running_loop().create_future()
            sroom.pending.append(Pending(conn, ref, reply))
            self._kick(sroom)
            await reply
        except Exception:
            # Redis or the database failed it: a JOIN_SESSION refused leaves no member.
            if sroom.members.get(conn) is follower:
                self.part(conn, [session_id])
            raise

    async def _hosted(self, session_id: int) -> SessionRoom:
        """The session's room here: subscribed to its channel, then its state read (a
        change published in between is kept if newer)."""
        sroom = self.rooms.get(session_id)
        if sroom is not None:
            if sroom.loaded is not None and not sroom.loaded.done():
                await asyncio.shield(sroom.loaded)
            return sroom
        sroom = self.rooms[session_id] = SessionRoom(session_id, window=self._hub.base_window)
        loaded = sroom.loaded = asyncio.get_running_loop().create_future()
        try:
            await self._hub.pubsub.subscribe(keys.session_channel(self._redis, session_id))
            state = await sessions.load_state(session_id)
            if state is None:
                raise NotFound("session not found")
        except BaseException as exc:
            failed = exc if isinstance(exc, Exception) else ConnectionError("interrupted")
            loaded.set_exception(failed)
            loaded.exception()  # retrieved: joiners waiting get it
            # Unsubscribed again (unless joined anew meanwhile): walking unknown ids must
            # not leave this process subscribed to their channels.
            if self._drop(sroom):
                place = session_place(session_id)
                self._hub.spawn(self._hub.leave_redis(None, [], [place]))
            raise
        if state["session"]["version"] > sroom.version:
            sroom.state = state
        self._codes[str(sroom.state["session"]["code"])] = session_id  # type: ignore[index]
        loaded.set_result(None)
        return sroom

    def code_of(self, code: str) -> int | None:
        """The id of a session hosted here by its join code (no database lookup)."""
        return self._codes.get(code)

    async def leave(self, conn: Connection, session_id: int) -> bool:
        """LEAVE_SESSION: False if `conn` was not in the session. Awaits Redis (shielded:
        a cancelled caller leaves all the same)."""
        if session_id not in conn.sessions:
            return False
        told = self.part(conn, [session_id])
        if told is not None:
            await asyncio.shield(told)
        return True

    def part(self, conn: Connection, session_ids: list[int]) -> asyncio.Task[None] | None:
        """Take `conn` out of these sessions (and the polls it follows through them) here
        and now; presence and unsubscribing run in a task."""
        counted: list[Place] = []
        emptied: list[Place] = []
        for session_id in session_ids:
            follower = conn.sessions.pop(session_id, None)
            sroom = self.rooms.get(session_id)
            if follower is None or sroom is None or sroom.members.get(conn) is not follower:
                continue
            del sroom.members[conn]
            if not follower.projector:
                counted.append(session_place(session_id))
            if follower.poll_id is not None:
                self._hub.unfollow([conn], follower.poll_id, session_id)
            if not sroom.members and not sroom.pending and self._drop(sroom):
                emptied.append(session_place(session_id))
        if not counted and not emptied:
            return None
        return self._hub.spawn(self._hub.leave_redis(conn.principal.user_id, counted, emptied))

    def _drop(self, sroom: SessionRoom) -> bool:
        """Stop hosting the session here (unsubscribing is the caller's)."""
        if self.rooms.get(sroom.session_id) is not sroom:
            return False
        del self.rooms[sroom.session_id]
        if sroom.state is not None:
            self._codes.pop(str(sroom.state["session"]["code"]), None)
        if sroom.presence_timer is not None:
            sroom.presence_timer.cancel()
        return True

    # --- what the session's channel says -------------------------------------------------

    def dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        session_id = int(
            message["session"]["id"] if kind == "SESSION_CHANGED" else message["session_id"]
        )
        sroom = self.rooms.get(session_id)
        if sroom is None:
            return
        if kind == "SESSION_CHANGED":
            self._changed(sroom, message)
        elif kind == "PRESENCE":
            sroom.viewers = int(message["viewers"])
            self._hub.schedule_presence(sroom)
        elif kind == "SESSION_DELETED":
            self._deleted(sroom)

    def _changed(self, sroom: SessionRoom, state: dict[str, Any]) -> None:
        if int(state["session"]["version"]) <= sroom.version:
            return  # older than what this room shows (a resync's read raced a change)
        sroom.state = {"session": state["session"], "poll": state["poll"]}
        if sroom.loaded is not None and sroom.loaded.done():
            sroom.moved = True
            self._kick(sroom)

    def _deleted(self, sroom: SessionRoom) -> None:
        frame = message_frame({"type": "LEFT_SESSION", "ref": None, "session_id": sroom.session_id})
        for conn in list(sroom.members):
            conn.send(frame)
            self.part(conn, [sroom.session_id])
        for pending in sroom.pending:
            if not pending.reply.done():
                pending.reply.set_exception(NotFound("session not found"))
        sroom.pending.clear()
        if self._drop(sroom):
            self._hub.spawn(self._hub.leave_redis(None, [], [session_place(sroom.session_id)]))

    async def resync(self) -> None:
        """Changes may have been missed (a pub/sub reconnect, a publication that failed):
        compare each room's version with the database's, one small query per room, and
        read the state again where it moved (an older version is ignored)."""
        for sroom in list(self.rooms.values()):
            with contextlib.suppress(Exception):
                version = await sessions.version_of(sroom.session_id)
                if version is None:
                    self._deleted(sroom)
                elif version > sroom.version:
                    state = await sessions.load_state(sroom.session_id)
                    if state is not None:
                        self._changed(sroom, state)

    # --- showing members the state -------------------------------------------------------

    def _kick(self, sroom: SessionRoom) -> None:
        if sroom.runner is None or sroom.runner.done():
            sroom.runner = self._hub.spawn(self._run(sroom))

    async def _run(self, sroom: SessionRoom) -> None:
        """The room's one task: everybody after a change, then the joiners waiting."""
        while self.rooms.get(sroom.session_id) is sroom and (sroom.moved or sroom.pending):
            if sroom.moved:
                sroom.moved = False
                ready: list[tuple[Connection, str | None]] = [
                    (c, None) for c, f in sroom.members.items() if f.ready
                ]
                try:
                    await self._show(sroom, ready)
                except Exception as exc:
                    log.warning(
                        "moving session %d's members failed (%r); retrying", sroom.session_id, exc
                    )
                    sroom.moved = True
                    await asyncio.sleep(RETRY_S)
                    continue
            if sroom.pending:
                batch, sroom.pending = sroom.pending, []
                try:
                    await self._show(sroom, [(p.conn, p.ref) for p in batch])
                except Exception as exc:
                    for pending in batch:
                        if not pending.reply.done():
                            pending.reply.set_exception(exc)
                else:
                    for pending in batch:
                        if not pending.reply.done():
                            pending.reply.set_result(None)
        # Joiners that left before they were shown the state kept the room: let it go.
        if not sroom.members and not sroom.pending and self._drop(sroom):
            place = session_place(sroom.session_id)
            self._hub.spawn(self._hub.leave_redis(None, [], [place]))

    async def _show(self, sroom: SessionRoom, targets: list[tuple[Connection, str | None]]) -> None:
        started = time.perf_counter()
        try:
            await self._move(sroom, targets)
        finally:
            metrics.SESSION_SHOW.observe(time.perf_counter() - started)

    async def _move(self, sroom: SessionRoom, targets: list[tuple[Connection, str | None]]) -> None:
        """Send each target SESSION_STATE for the room's state now, moving it into the
        current poll's room (and out of the one it followed). The poll's room is
        subscribed before the snapshot is read, and members are admitted, shown the
        snapshot and caught up in one synchronous pass after it: no tally falls between."""
        assert sroom.state is not None
        state, session_id, hub = sroom.state, sroom.session_id, self._hub
        poll: dict[str, Any] | None = state["poll"]
        poll_id = int(poll["id"]) if poll is not None else None
        followers = {c: sroom.members[c] for c, _ in targets if c in sroom.members}
        # Out of the poll each followed, if the session moved on from it.
        by_poll: dict[int, list[Connection]] = {}
        for conn, follower in followers.items():
            if follower.poll_id is not None and follower.poll_id != poll_id:
                by_poll.setdefault(follower.poll_id, []).append(conn)
                follower.poll_id = None
        for old, conns in by_poll.items():
            hub.unfollow(conns, old, session_id)
        room: Room | None = None
        views: dict[int, View] = {}
        if poll is not None:
            while True:  # the room may go (its last member left) while the snapshot is read
                room = await hub.host(poll)
                readers = [c for c in followers if _may_see(c, room.poll)]
                views = await self._views(room, readers)
                if hub.rooms.get(room.poll_id) is room:
                    break
        now = server_now_ms()
        common = {"session": state["session"], "viewers": max(sroom.viewers, 0), "server_now": now}
        waiting = orjson.dumps({**common, "poll": None, "results": None})
        encoded: dict[tuple[int, bool], bytes] = {}
        frames: dict[tuple[tuple[int, bool], tuple[int, ...] | None], bytes] = {}
        visible: dict[tuple[bool, bool, bool], bool] = {}
        for conn, ref in targets:
            member = followers.get(conn)
            if member is None or sroom.members.get(conn) is not member:
                continue  # left meanwhile
            member.ready = True
            if room is None or conn not in hub.connections or not _may_see(conn, room.poll):
                conn.send(_state_frame(ref, b"null", waiting))
                continue
            member.poll_id = room.poll_id
            results, seq, mine = views.get(conn.principal.user_id, NO_VIEW)
            membership = conn.rooms.get(room.poll_id)
            if membership is None or membership.via == session_id:
                user_id, voted = conn.principal.user_id, mine is not None
                key = (user_id == room.poll["owner_id"], voted, member.projector)
                sees = visible.get(key)
                if sees is None:
                    sees = visible[key] = room.sees_counts(
                        user_id, voted=voted, projector=member.projector
                    )
                membership = Membership(seq, sees, member.projector, voted, session_id)
                conn.rooms[room.poll_id] = room.members[conn] = membership
            else:  # it joined the poll itself too: that membership stays as it is
                sees = hub.member_sees(conn, room, voted=mine is not None)
            body_key = (id(results), sees)
            body = encoded.get(body_key)
            if body is None:
                shown = results if sees else None
                body = orjson.dumps({**common, "poll": room.poll, "results": shown})
                encoded[body_key] = body
            if ref is None:  # a move: members who see the same get the same bytes
                frame_key = (body_key, None if mine is None else tuple(mine))
                frame = frames.get(frame_key)
                if frame is None:
                    frame = frames[frame_key] = _state_frame(None, orjson.dumps(mine), body)
            else:
                frame = _state_frame(ref, orjson.dumps(mine), body)
            conn.send(frame)
            if membership.via == session_id and room.seq > membership.last_seq:
                membership.last_seq = room.seq  # what moved since the snapshot
                conn.send(hub.results_frame(room, sees), results_of=room.poll_id)

    async def _views(self, room: Room, conns: list[Connection]) -> dict[int, View]:
        """User id -> its results (None for a draft), their seq, and its own ballot."""
        poll = room.poll
        if not conns or poll["status"] == PollStatus.DRAFT:
            return {}
        user_ids = list(dict.fromkeys(c.principal.user_id for c in conns))
        read = await read_snapshots(self._redis, self._batch, room.poll_id, user_ids)
        if read is None:  # no live state: rebuilt from the database, or finalized
            found = await polls.find_poll(poll_id=room.poll_id)
            tally = await polls.current_tally(self._redis, found)
            read = await read_snapshots(self._redis, self._batch, room.poll_id, user_ids)
            if read is None and tally is not None:
                read = [(user_ids, Snapshot(tally, await _stored_ballots(room.poll_id, user_ids)))]
        shape = Shape.of_json(poll)
        views: dict[int, View] = {}
        for chunk, snapshot in read or []:
            results = results_json(snapshot.tally, poll["status"], shape)
            for user_id, ballot in zip(chunk, snapshot.ballots, strict=True):
                views[user_id] = (results, snapshot.tally.seq, ballot)
        return views


def _may_see(conn: Connection, poll: dict[str, Any]) -> bool:
    """A draft shows to its owner only (presenting opens it)."""
    return bool(poll["status"] != PollStatus.DRAFT or conn.principal.user_id == poll["owner_id"])


def _state_frame(ref: str | None, my_vote: bytes, body: bytes) -> bytes:
    """SESSION_STATE: the member's own `ref` and `my_vote` spliced into the body shared
    by every member who sees the same thing."""
    return text_frame(
        b'{"type":"SESSION_STATE","ref":'
        + orjson.dumps(ref)
        + b',"my_vote":'
        + my_vote
        + b","
        + body[1:]
    )


async def _stored_ballots(poll_id: int, user_ids: list[int]) -> list[list[int] | None]:
    """The members' ballots from the database: a finalized poll's are no longer in Redis."""
    stored: dict[int, list[int]] = {}
    for i in range(0, len(user_ids), BALLOT_QUERY_CHUNK):
        chunk = user_ids[i : i + BALLOT_QUERY_CHUNK]
        rows = await Ballot.filter(poll_id=poll_id, user_id__in=chunk).values_list(
            "user_id", "option_ids"
        )
        for user_id, option_ids in rows:
            stored[int(user_id)] = [int(x) for x in str(option_ids).split(",")]
    return [stored.get(u) for u in user_ids]
