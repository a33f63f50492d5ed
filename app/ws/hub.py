"""The per-process room hub: local sockets by room, fed by Redis pub/sub.

The broker (Redis pub/sub) carries every room's messages between processes; the hub
keeps this process's sockets and subscribes only to rooms that have local members.
Every tally message carries `seq`; the hub keeps the latest per room and flushes it
on a window per room — leading edge (in the same loop tick, so messages read in one
batch go out together), then at most once per window — where the window widens for
huge rooms, to `broadcast_widen` times the last flush's duration and to at least
`broadcast_member_us` per local member. PRESENCE has its own, longer window
(`presence_window_ms`): viewer counts need not move 20 times a second. The frame is encoded
once per flush (twice when some members may not see counts) and written to each
socket without awaiting it (see connection.py). Each socket also remembers the last
seq it was shown per room, so `seq` never goes backwards for a client.

Leaving rooms (LEAVE_POLL, or the socket's end) takes the socket out of the hub's
state at once, without awaiting; the Redis side (presence, unsubscribing emptied
rooms) runs in a task the hub owns, bounded by `LEAVE_TIMEOUT_S`, so nothing that
cancels the socket's handler (Sanic does when the peer vanishes) can cut it short
and leave the socket counted in rooms it left. Both are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from app import keys, metrics
from app.clock import server_now_ms
from app.config import Settings
from app.outage import Outage
from app.polls.schemas import counts_visible
from app.polls.state import read_tally, results_message
from app.redis_batch import RedisBatch
from app.tokens import Principal
from app.ws.connection import CLOSE_GOING_AWAY, CLOSE_TOKEN, Connection, Membership
from app.ws.follow import SessionRoom, SessionRooms
from app.ws.frames import message_frame, text_frame
from app.ws.keepalive import Keepalive
from app.ws.presence import Place, Presence, channel_of, poll_place

log = logging.getLogger("livepolls.ws.hub")

SWEEP_INTERVAL_S = 0.05
# The Redis side of leaving rooms; past it (Redis away) presence entries expire anyway
# (PRESENCE_TTL_S) and the pub/sub connection is rebuilt when Redis comes back.
LEAVE_TIMEOUT_S = 10.0
# A member that joined is shown no RESULTS until its JOINED snapshot went out.
NOT_YET = 1 << 62


@dataclass(slots=True)
class Room:
    poll_id: int
    poll: dict[str, Any]
    members: dict[Connection, Membership] = field(default_factory=dict)
    seq: int = -1
    payload: bytes = b""
    total: int = 0
    sent_seq: int = -1
    viewers: int = -1
    viewers_sent: int = -1
    timer: asyncio.Handle | None = None
    last_flush: float = 0.0
    window: float = 0.05
    presence_timer: asyncio.Handle | None = None
    last_presence_flush: float = 0.0
    subscribed: asyncio.Future[None] | None = None

    def place(self) -> dict[str, int]:
        return {"poll_id": self.poll_id}

    def watchers(self) -> Iterator[Connection]:
        """Who is shown the poll's PRESENCE: a session's members see the session's."""
        return (c for c, m in self.members.items() if m.via is None)

    def sees_counts(self, user_id: int, *, voted: bool = False, projector: bool = False) -> bool:
        return counts_visible(
            owner_id=self.poll["owner_id"],
            visibility=self.poll["results_visibility"],
            status=self.poll["status"],
            user_id=user_id,
            hidden=bool(self.poll.get("results_hidden")),
            voted=voted,
            projector=projector,
        )


class Hub:
    def __init__(self, redis: Redis, batch: RedisBatch, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self.base_window = settings.broadcast_window_ms / 1000
        self._member_window = settings.broadcast_member_us / 1e6
        self._presence_window = settings.presence_window_ms / 1000
        self.presence = Presence(redis, batch, settings.presence_ttl_s)
        self.keepalive = Keepalive(settings.ws_ping_interval_s)
        self.rooms: dict[int, Room] = {}
        # Join codes of the rooms hosted here: a reconnect storm of phones joining by
        # code needs no database lookup while the room is live in this process.
        self._codes: dict[str, int] = {}
        self.connections: set[Connection] = set()
        self._by_jti: dict[str, set[Connection]] = {}
        # A user's sockets here, for after_vote: their ballot shows them the counts.
        self._by_user: dict[int, set[Connection]] = {}
        # Sockets that fell behind (they add themselves, see Connection.send).
        self.behind: set[Connection] = set()
        self._pubsub: PubSub = redis.pubsub(ignore_subscribe_messages=True)
        self.sessions = SessionRooms(self, redis, batch)
        self._tasks: list[asyncio.Task[None]] = []
        self._spawned: set[asyncio.Task[None]] = set()

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="hub-listen"),
            asyncio.create_task(self._sweep(), name="hub-sweep"),
            asyncio.create_task(self._heartbeat(), name="hub-presence"),
            asyncio.create_task(self.keepalive.run(), name="hub-keepalive"),
        ]

    async def stop(self) -> None:
        """Tell clients to reconnect elsewhere (1001) and leave presence cleanly."""
        await asyncio.gather(
            *(c.close(CLOSE_GOING_AWAY, "server restarting") for c in list(self.connections)),
            return_exceptions=True,
        )
        if self._spawned:  # sockets' leaves, closes: let them finish, boundedly
            await asyncio.wait(set(self._spawned), timeout=LEAVE_TIMEOUT_S)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.presence.leave_all()
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    # --- connections and membership ---------------------------------------------------------

    def register(self, conn: Connection) -> None:
        self.connections.add(conn)
        self.keepalive.add(conn)
        self._by_jti.setdefault(conn.principal.jti, set()).add(conn)
        self._by_user.setdefault(conn.principal.user_id, set()).add(conn)
        metrics.WS_CONNECTIONS.inc()

    def reauthenticate(self, conn: Connection, principal: Principal) -> None:
        """The socket now rides on `principal`'s token (same user): revocations and
        expiry follow the new token."""
        self._forget_jti(conn)
        conn.principal = principal
        self._by_jti.setdefault(principal.jti, set()).add(conn)
        conn.arm_expiry(self.spawn)

    def _forget_jti(self, conn: Connection) -> None:
        jti_conns = self._by_jti.get(conn.principal.jti)
        if jti_conns is not None:
            jti_conns.discard(conn)
            if not jti_conns:
                del self._by_jti[conn.principal.jti]

    def unregister(self, conn: Connection) -> asyncio.Task[None] | None:
        """Forget the socket now, rooms included; returns the task that tells Redis."""
        if conn not in self.connections:
            return None
        self.connections.discard(conn)
        self.keepalive.discard(conn)
        self.behind.discard(conn)
        self._forget_jti(conn)
        user_conns = self._by_user.get(conn.principal.user_id)
        if user_conns is not None:
            user_conns.discard(conn)
            if not user_conns:
                del self._by_user[conn.principal.user_id]
        metrics.WS_CONNECTIONS.dec()
        self.sessions.part(conn, list(conn.sessions))
        return self._part(conn, list(conn.rooms))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `coro` in the background, keeping a reference until it is done."""
        task = asyncio.get_running_loop().create_task(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)
        return task

    def room_of(self, poll_id: int | None = None, code: str | None = None) -> Room | None:
        if poll_id is None and code is not None:
            poll_id = self._codes.get(code)
        return self.rooms.get(poll_id) if poll_id is not None else None

    async def host(self, poll: dict[str, Any]) -> Room:
        """The poll's room here, subscribed to its channel (once per process however
        many join at once)."""
        poll_id = int(poll["id"])
        room = self.rooms.get(poll_id)
        if room is None:
            room = self.rooms[poll_id] = Room(poll_id, poll, window=self.base_window)
            room.subscribed = asyncio.get_running_loop().create_future()
            try:
                await self._pubsub.subscribe(keys.channel(self._redis, poll_id))
            except BaseException as exc:
                # Cancelled too (the joiner's peer vanished): else the room would stay,
                # memberless, and its next joiners would wait on it forever.
                failed = exc if isinstance(exc, Exception) else ConnectionError("interrupted")
                room.subscribed.set_exception(failed)
                room.subscribed.exception()  # retrieved: joiners get it below
                del self.rooms[poll_id]
                if failed is not exc:  # the SUBSCRIBE may have gone out
                    self.spawn(self.leave_redis(None, [], [poll_place(poll_id)]))
                raise
            room.subscribed.set_result(None)
            self._codes[str(poll["code"])] = poll_id
        elif room.subscribed is not None and not room.subscribed.done():
            await asyncio.shield(room.subscribed)
        return room

    def admit(
        self, conn: Connection, room: Room, *, projector: bool, via: int | None = None
    ) -> Membership:
        """Make `conn` a member of the hosted room, shown no RESULTS until its snapshot
        went out (`shown`)."""
        before = conn.rooms.get(room.poll_id)
        membership = Membership(
            NOT_YET,
            False,
            projector=projector,
            voted=before is not None and before.voted,
            via=via,
        )
        conn.rooms[room.poll_id] = room.members[conn] = membership
        self._evaluate(room, conn, membership)
        return membership

    async def enter(
        self, conn: Connection, poll: dict[str, Any], *, projector: bool = False
    ) -> tuple[Room, int]:
        """Add `conn` to the room (subscribing first, so no update falls between the
        subscription and the caller's snapshot). Returns the room and its viewers. A
        projector socket is no viewer: it is left out of presence."""
        room = await self.host(poll)
        poll_id = room.poll_id
        before = conn.rooms.get(poll_id)
        counted = before is not None and before.counted
        self.admit(conn, room, projector=projector)
        user_id = conn.principal.user_id
        viewers = room.viewers
        if not projector and not counted:
            viewers = await self.presence.join(poll_place(poll_id), user_id)
            # The room's count follows the channel's PRESENCE only: this reply may be
            # read after a newer PRESENCE (another connection), and must not undo it.
            if room.viewers < 0:
                room.viewers = viewers
        elif projector and counted:  # a viewer's socket turned projector
            self.spawn(self.leave_redis(user_id, [poll_place(poll_id)], []))
        if viewers < 0:
            viewers = room.viewers = await self.presence.count(poll_place(poll_id))
        return room, viewers

    def rooms_held(self, conn: Connection) -> int:
        """What counts against `ws_max_rooms`: rooms joined, and sessions (one room each,
        whatever poll they show)."""
        return len(conn.sessions) + sum(1 for m in conn.rooms.values() if m.via is None)

    def unfollow(self, conns: list[Connection], poll_id: int, session_id: int) -> None:
        """Take these sockets out of the poll's room where they are in it through the
        session only; an emptied room is unsubscribed in a task."""
        room = self.rooms.get(poll_id)
        for conn in conns:
            membership = conn.rooms.get(poll_id)
            if membership is not None and membership.via == session_id:
                conn.forget_room(poll_id)
                if room is not None:
                    room.members.pop(conn, None)
        if room is not None and not room.members and self._forget_room(room):
            self.spawn(self.leave_redis(None, [], [poll_place(poll_id)]))

    # --- who sees counts -----------------------------------------------------------------

    def _evaluate(self, room: Room, conn: Connection, membership: Membership) -> bool:
        """The one place a member's visibility is decided (app.polls.schemas.counts_visible
        with what the hub knows of it). A member that becomes able to see is sent the
        room's current RESULTS with counts at once (unless the JOINED snapshot is still
        to come, which carries them, or the room's tally is older than what the member
        was shown, in which case the newer one is on its way). True if it flipped so."""
        sees = room.sees_counts(
            conn.principal.user_id, voted=membership.voted, projector=membership.projector
        )
        flipped = sees and not membership.sees_counts
        if membership.sees_counts and not sees:  # hidden now: an owed tally stays here
            conn.withhold(room.poll_id)
        membership.sees_counts = sees
        shown_at = membership.last_seq
        if flipped and room.payload and shown_at != NOT_YET and shown_at <= room.seq:
            membership.last_seq = room.seq
            conn.send(text_frame(room.payload), results_of=room.poll_id)
        return flipped

    def member_sees(self, conn: Connection, room: Room, *, voted: bool = False) -> bool:
        """Whether the member sees counts now; `voted`: its user has a ballot (as the
        JOIN snapshot read it)."""
        membership = room.members.get(conn)
        if membership is None:
            return False
        if voted:
            membership.voted = True
        self._evaluate(room, conn, membership)
        return membership.sees_counts

    def voted(self, user_id: int, poll_id: int) -> None:
        """The user has a ballot in the poll (acked on one of its sockets here, or seen in
        the vote's publication, whichever process or REST call cast it): its sockets in
        the room may now see the counts (after_vote)."""
        room = self.rooms.get(poll_id)
        if room is None:
            return
        for conn in self._by_user.get(user_id, ()):
            membership = conn.rooms.get(poll_id)
            if membership is not None and not membership.voted:
                membership.voted = True
                self._evaluate(room, conn, membership)

    def shown(self, conn: Connection, room: Room, seq: int) -> None:
        """The member saw the snapshot at `seq`; send what moved since, if anything."""
        membership = room.members.get(conn)
        if membership is None:
            return
        membership.last_seq = seq
        if room.seq > seq:
            membership.last_seq = room.seq
            frame = self.results_frame(room, membership.sees_counts)
            conn.send(frame, results_of=room.poll_id)

    async def leave(self, conn: Connection, poll_id: int) -> bool:
        """LEAVE_POLL: False if `conn` was not in the room. Awaits Redis (shielded: a
        cancelled caller leaves the room all the same)."""
        if poll_id not in conn.rooms:
            return False
        told = self._part(conn, [poll_id])
        if told is not None:
            await asyncio.shield(told)
        return True

    def _part(self, conn: Connection, poll_ids: list[int]) -> asyncio.Task[None] | None:
        """Take `conn` out of these rooms here and now (no await: nothing can cut it
        short), dropping the rooms it leaves empty; Redis is told in a task."""
        left: list[int] = []
        counted: list[Place] = []
        emptied: list[Place] = []
        for poll_id in poll_ids:
            membership = conn.rooms.get(poll_id)
            if membership is None:
                continue
            if membership.counted:
                counted.append(poll_place(poll_id))
            conn.forget_room(poll_id)
            room = self.rooms.get(poll_id)
            if room is None:
                continue
            room.members.pop(conn, None)
            left.append(poll_id)
            if not room.members and self._forget_room(room):
                emptied.append(poll_place(poll_id))
        if not left:
            return None
        return self.spawn(self.leave_redis(conn.principal.user_id, counted, emptied))

    def hosts(self, place: Place) -> bool:
        kind, id_ = place
        return id_ in (self.sessions.rooms if kind == "s" else self.rooms)

    async def leave_redis(
        self, user_id: int | None, left: list[Place], emptied: list[Place]
    ) -> None:
        """Presence leaves for `user_id`'s rooms (one pipeline) and one UNSUBSCRIBE for
        the emptied rooms (polls', sessions') that nobody joined again meanwhile."""
        # Tasks: each presence leave moves the local count and queues its script in one
        # step, so Redis sees this process's joins and leaves in order; they start now,
        # whatever becomes of the rest.
        leaves = asyncio.gather(
            *(self.presence.leave(place, user_id) for place in left if user_id is not None),
            return_exceptions=True,
        )
        failures: list[BaseException] = []
        try:
            async with asyncio.timeout(LEAVE_TIMEOUT_S):
                # Checked and sent in one step (the command is written before the first
                # suspension): a room joined again since cannot lose its subscription.
                channels = [channel_of(self._redis, p) for p in emptied if not self.hosts(p)]
                if channels:
                    try:
                        await self._pubsub.unsubscribe(*channels)
                    except Exception as exc:
                        failures.append(exc)
                failures += [r for r in await leaves if isinstance(r, Exception)]
        except TimeoutError as exc:
            failures.append(exc)
        if failures:
            log.warning(
                "%d Redis update(s) for leaving rooms failed (%r); presence expires by itself",
                len(failures),
                failures[0],
            )

    def _forget_room(self, room: Room) -> bool:
        """Stop hosting the room here (its unsubscribe is the caller's)."""
        if self.rooms.get(room.poll_id) is not room:
            return False
        del self.rooms[room.poll_id]
        self._codes.pop(str(room.poll["code"]), None)
        for timer in (room.timer, room.presence_timer):
            if timer is not None:
                timer.cancel()
        return True

    async def _drop_room(self, room: Room) -> None:
        if self._forget_room(room):
            await self.leave_redis(None, [], [poll_place(room.poll_id)])

    # --- incoming pub/sub --------------------------------------------------------------

    async def _listen(self) -> None:
        """Subscribing here, not in start(), lets the process start (and report
        not-ready) while Redis is down. When the connection is lost, reconnect with
        backoff; redis-py subscribes the new connection to every room's channel again,
        and once it is up the rooms catch up on what they missed (`_resync`)."""
        outage = Outage(log, "pub/sub", cap_s=self._settings.redis_retry_max_s)
        lost = False
        while True:
            try:
                await self._pubsub.subscribe(keys.revocations(self._redis))
                if lost:
                    lost = False
                    outage.recovered()
                    self.spawn(self._resync())
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                lost = True
                await outage.wait(exc)

    async def _resync(self) -> None:
        """After a pub/sub reconnect messages may have been missed: re-read each room's
        tally (an older seq is ignored), and refresh this process's viewers, which a
        Redis that restarted empty no longer has."""
        for room in list(self.rooms.values()):
            with contextlib.suppress(Exception):
                tally = await read_tally(self._redis, room.poll_id)
                if tally is not None:
                    self._on_results(room, tally.seq, tally.total, results_message(tally))
        await self.sessions.resync()
        with contextlib.suppress(Exception):
            await self.presence.heartbeat()

    @property
    def pubsub(self) -> PubSub:
        return self._pubsub

    def _dispatch(self, channel: str, data: str) -> None:
        try:
            message = orjson.loads(data)
            if channel == keys.revocations(self._redis):
                self._on_revoked(message)
                return
            if keys.is_session_channel(channel):
                self.sessions.dispatch(message)
                return
            kind = message["type"]
            poll_id = message["poll"]["id"] if kind == "POLL_UPDATED" else message["poll_id"]
            room = self.rooms.get(int(poll_id))
            if room is None:
                return
            if kind == "RESULTS":
                voter = message.get("voter")
                if voter is not None:  # vote.lua's, always last: cut off, clients never see it
                    data = data[: data.rindex(',"voter":')] + "}"
                self._on_results(room, int(message["seq"]), int(message["total"]), data.encode())
                if voter is not None:
                    self.voted(int(voter), room.poll_id)
            elif kind == "PRESENCE":
                room.viewers = int(message["viewers"])
                self.schedule_presence(room)
            elif kind == "POLL_UPDATED":
                self._on_poll_updated(room, message)
            elif kind == "POLL_DELETED":
                self.spawn(self._on_deleted(room))
        except (ValueError, KeyError, TypeError):
            # Not ours or not well formed: one bad message must not cost the subscription.
            log.warning("ignored a malformed message on %s: %.200s", channel, data)

    def _on_results(self, room: Room, seq: int, total: int, payload: bytes) -> None:
        if seq <= room.seq:
            return
        room.seq, room.total, room.payload = seq, total, payload
        self._schedule(room)

    def _on_poll_updated(self, room: Room, message: dict[str, Any]) -> None:
        room.poll = message["poll"]
        results = message.get("results")
        if results is not None and int(results["seq"]) > room.seq:
            payload = orjson.dumps(
                {
                    "type": "RESULTS",
                    "poll_id": room.poll_id,
                    "seq": results["seq"],
                    "total": results["total"],
                    "counts": results["counts"],
                }
            )
            room.seq, room.total, room.payload = int(results["seq"]), int(results["total"]), payload
        now = server_now_ms()
        update = {"type": "POLL_UPDATED", "poll": room.poll, "server_now": now}
        full = message_frame({**update, "results": results})
        hidden = message_frame({**update, "results": None})
        for conn, membership in room.members.items():
            # Hide, reveal, close: decided afresh for each member. Hidden members get
            # `results: null` whatever the message carried.
            sees = room.sees_counts(
                conn.principal.user_id, voted=membership.voted, projector=membership.projector
            )
            conn.send(full if sees and results is not None else hidden)
            if results is not None and membership.last_seq != NOT_YET:
                membership.last_seq = max(membership.last_seq, int(results["seq"]))
            self._evaluate(room, conn, membership)

    async def _on_deleted(self, room: Room) -> None:
        frame = message_frame({"type": "LEFT", "ref": None, "poll_id": room.poll_id})
        for conn in list(room.members):
            conn.forget_room(room.poll_id)
            conn.send(frame)
        room.members.clear()
        await self._drop_room(room)

    def _on_revoked(self, message: dict[str, Any]) -> None:
        """Close the revoked token's sockets, and the user's sockets whose tokens the
        durable `tokens_valid_after` now refuses (logout is rare: a scan is fine)."""
        doomed = set(self._by_jti.get(str(message.get("jti")), ()))
        user_id, valid_after = message.get("user_id"), message.get("valid_after")
        if isinstance(user_id, int) and isinstance(valid_after, int):
            doomed.update(
                c
                for c in self.connections
                if c.principal.user_id == user_id and c.principal.issued_at < valid_after
            )
        for conn in doomed:
            self.spawn(conn.close(CLOSE_TOKEN, "token revoked"))

    # --- coalesced flush ---------------------------------------------------------------

    def _schedule(self, room: Room) -> None:
        if room.timer is None:
            room.timer = _arm(room.last_flush + room.window, self._flush, room)

    def schedule_presence(self, room: Room | SessionRoom) -> None:
        """Viewer counts wait longer than tallies: in a reconnect storm every join
        moves the count, and a 50 ms window would send the whole room a frame 20
        times a second for nothing anyone reads that fast."""
        if room.presence_timer is None:
            window = max(self._presence_window, room.window)
            room.presence_timer = _arm(
                room.last_presence_flush + window, self._flush_presence, room
            )

    def results_frame(self, room: Room, sees_counts: bool) -> bytes:
        if sees_counts:
            return text_frame(room.payload)
        return message_frame(
            {
                "type": "RESULTS",
                "poll_id": room.poll_id,
                "seq": room.seq,
                "total": room.total,
                "counts": None,
            }
        )

    def _flush(self, room: Room) -> None:
        room.timer = None
        started = time.perf_counter()
        room.last_flush = asyncio.get_running_loop().time()
        if room.seq > room.sent_seq:
            seq, poll_id = room.seq, room.poll_id
            full = text_frame(room.payload)
            hidden: bytes | None = None
            for conn, membership in room.members.items():
                if membership.last_seq >= seq:
                    continue
                membership.last_seq = seq
                if membership.sees_counts:
                    frame = full
                else:
                    if hidden is None:
                        hidden = self.results_frame(room, False)
                    frame = hidden
                conn.send(frame, results_of=poll_id)
            room.sent_seq = seq
            metrics.WS_FRAMES_SENT.labels("RESULTS").inc(len(room.members))
        elapsed = time.perf_counter() - started
        metrics.BROADCAST_FLUSH.observe(elapsed)
        room.window = max(
            self.base_window,
            elapsed * self._settings.broadcast_widen,
            len(room.members) * self._member_window,
        )

    def _flush_presence(self, room: Room | SessionRoom) -> None:
        room.presence_timer = None
        room.last_presence_flush = asyncio.get_running_loop().time()
        if room.viewers != room.viewers_sent and room.viewers >= 0:
            room.viewers_sent = room.viewers
            frame = message_frame({"type": "PRESENCE", **room.place(), "viewers": room.viewers})
            for conn in room.watchers():
                conn.send(frame)

    # --- background ----------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            if self.behind:
                now = time.monotonic()
                for conn in [c for c in self.behind if not c.catch_up(now)]:
                    self.behind.discard(conn)

    async def _heartbeat(self) -> None:
        """Refresh presence every third of its TTL (and check the session rooms' versions);
        after a failure retry sooner, with backoff, so the entries come back soon after
        Redis does."""
        interval = max(1.0, self._settings.presence_ttl_s / 3)
        outage = Outage(
            log, "presence heartbeat", cap_s=min(interval, self._settings.redis_retry_max_s)
        )
        delay = interval
        while True:
            await asyncio.sleep(delay)
            try:
                await self.presence.heartbeat()
            except Exception as exc:
                delay = outage.failed(exc)
            else:
                outage.recovered()
                delay = interval
            # A session change whose publication failed (app/poll_sessions/service.py)
            # is caught up here at the latest.
            await self.sessions.resync()


def _arm(at: float, flush: Callable[[Any], None], room: Room | SessionRoom) -> asyncio.Handle:
    """Call `flush(room)` at loop time `at`, or in this tick if that has passed
    (the leading edge: a quiet room's first update goes out at once)."""
    loop = asyncio.get_running_loop()
    delay = at - loop.time()
    if delay <= 0:
        return loop.call_soon(flush, room)
    return loop.call_later(delay, flush, room)
