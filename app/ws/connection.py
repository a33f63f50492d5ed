"""One client socket's write path: never blocks the sender, never grows without bound.

`send` writes the frame to the transport at once when the socket keeps up. When its
kernel + transport buffer is over `slow_socket_bytes` the frame waits instead:
replies and notices queue in order (bounded), while RESULTS frames are "owed" per
room and replaced by newer ones, so a slow phone skips stale tallies but always
ends with the latest. The hub's sweeper retries behind sockets and drops one that
stays over the limit for `slow_socket_s`. The room broadcast therefore never awaits
a socket: `for ws in room: await ws.send(...)` is exactly what this avoids. Every
reply goes this way, pongs to the peer's WebSocket pings included (`heard_control`):
a peer that sends and never reads fills its own buffers, never the process.

Input has a budget, `ws_messages_per_s` messages a second, pings and pongs counted
like messages. A peer that backs off when refused loses nothing; one that keeps
sending past the budget is flooding and is closed with 1008 (`over_limit`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sanic.server.websockets.impl import WebsocketImplProtocol
from websockets.protocol import State

from app import metrics
from app.config import Settings
from app.tokens import Principal
from app.ws.frames import pong_frame

MAX_BACKLOG_FRAMES = 256
# Refused messages leak away at the message rate; a socket whose refusals outrun
# that by this many seconds of budget is closed (twice the rate sustained: 2 s).
FLOOD_BUDGET_S = 2

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOKEN = 4401


@dataclass(slots=True)
class Follower:
    """A socket's place in a session room (app/ws/follow.py): `ready` once it was shown
    the session's state (the host's moves include it from then on); `poll_id`: the poll
    it follows through the session now."""

    projector: bool
    ready: bool = False
    poll_id: int | None = None


@dataclass(slots=True)
class Membership:
    """A socket's view of one room: the highest seq it was shown, and whether it may
    see counts (app.polls.schemas.counts_visible, evaluated by the hub); `projector`:
    joined in projector view; `voted`: its user has a ballot in the poll; `via`: the
    session it follows the poll through (app/ws/follow.py), None if joined directly."""

    last_seq: int
    sees_counts: bool
    projector: bool = False
    voted: bool = False
    via: int | None = None

    @property
    def counted(self) -> bool:
        """In the poll's viewers: a projector is no viewer, and a session's members are
        counted once, in the session's viewers."""
        return not self.projector and self.via is None


class Connection:
    __slots__ = (
        "_backlog",
        "_behind",
        "_behind_since",
        "_bucket",
        "_bucket_at",
        "_excess",
        "_excess_at",
        "_owed",
        "_settings",
        "bad_messages",
        "closed",
        "expiry",
        "principal",
        "rooms",
        "sessions",
        "transport",
        "ws",
    )

    def __init__(
        self,
        ws: WebsocketImplProtocol,
        principal: Principal,
        settings: Settings,
        behind: set[Connection],
    ) -> None:
        """`behind` is the hub's set of sockets to sweep; a socket joins it by itself
        the moment it falls behind, so no sender has to remember to."""
        self.ws = ws
        self._behind = behind
        self.transport: Any = ws.io_proto.transport if ws.io_proto else None
        self.principal = principal
        self._settings = settings
        self.rooms: dict[int, Membership] = {}
        self.sessions: dict[int, Follower] = {}
        # Lists, not deques: a deque allocates a 600-byte block up front, for every
        # socket of a full venue; these stay short (MAX_BACKLOG_FRAMES, HIGH_WATER).
        self._backlog: list[bytes] = []
        self._owed: dict[int, bytes] = {}
        self._behind_since: float | None = None
        self._bucket = float(settings.ws_messages_per_s)
        self._bucket_at = time.monotonic()
        self._excess = 0.0
        self._excess_at = 0.0
        self.bad_messages = 0
        self.closed = False
        self.expiry: asyncio.TimerHandle | None = None

    def arm_expiry(self, spawn: Callable[[Coroutine[Any, Any, None]], object]) -> None:
        """Close with 4401 when the socket's token expires, as on logout; an in-band
        AUTH with a renewed token moves the moment (app/ws/messages.py)."""
        if self.expiry is not None:
            self.expiry.cancel()
        self.expiry = asyncio.get_running_loop().call_later(
            max(0.0, self.principal.expires_at - time.time()),
            lambda: spawn(self.close(CLOSE_TOKEN, "token expired")),
        )

    def disarm_expiry(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None

    # --- writing ---------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return (
            not self.closed
            and self.ws.ws_proto.state is State.OPEN
            and self.transport is not None
            and not self.transport.is_closing()
        )

    def _keeps_up(self) -> bool:
        return bool(self.transport.get_write_buffer_size() < self._settings.slow_socket_bytes)

    def send(self, frame: bytes, *, results_of: int | None = None) -> None:
        """Write now if the socket keeps up; else queue (replies) or owe (RESULTS)."""
        if not self.is_open:
            return
        if self._behind_since is None and self._keeps_up():
            self.transport.write(frame)
            return
        if results_of is not None:
            self._owed[results_of] = frame
        else:
            self._backlog.append(frame)
            if len(self._backlog) > MAX_BACKLOG_FRAMES:
                self._drop_slow()
                return
        if self._behind_since is None:
            self._behind_since = time.monotonic()
            self._behind.add(self)

    def catch_up(self, now: float) -> bool:
        """Deliver what waited once the buffer drained; drop a socket stuck too long.
        Returns True while still behind."""
        if not self.is_open:
            return False
        if self._keeps_up():
            while self._backlog and self._keeps_up():
                self.transport.write(self._backlog.pop(0))
            if not self._backlog:
                for frame in self._owed.values():
                    self.transport.write(frame)
                self._owed.clear()
                self._behind_since = None
                return False
        if (
            self._behind_since is not None
            and now - self._behind_since > self._settings.slow_socket_s
        ):
            self._drop_slow()
            return False
        return True

    def _drop_slow(self) -> None:
        metrics.WS_SLOW_DROPPED.inc()
        self.drop("too slow: stopped reading")

    def withhold(self, poll_id: int) -> None:
        """Drop the room's owed RESULTS: its counts were hidden from this socket since."""
        self._owed.pop(poll_id, None)

    def forget_room(self, poll_id: int) -> None:
        self.rooms.pop(poll_id, None)
        self._owed.pop(poll_id, None)

    # --- closing -----------------------------------------------------------------------

    def drop(self, reason: str, code: int = CLOSE_POLICY) -> None:
        """Close without waiting for the peer (it may not be reading at all)."""
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        self._owed.clear()
        self.ws.fail_connection(code, reason)

    async def close(self, code: int, reason: str) -> None:
        """A polite close (close handshake), for live clients: 4401, 1001, 1008."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.ws.close(code, reason)
        except Exception:
            self.ws.fail_connection(code, reason)

    # --- input ---------------------------------------------------------------------------

    def take_token(self) -> bool:
        """Token bucket: `ws_messages_per_s` sustained, the same as burst."""
        now = time.monotonic()
        rate = self._settings.ws_messages_per_s
        self._bucket = min(float(rate), self._bucket + (now - self._bucket_at) * rate)
        self._bucket_at = now
        if self._bucket < 1:
            return False
        self._bucket -= 1
        return True

    def over_limit(self) -> None:
        """Count a message refused for the rate limit (the caller tells the peer); drop
        the socket once its refusals outrun their leak by `FLOOD_BUDGET_S` seconds'
        worth: a client that reads its `rate_limited` errors slows down long before."""
        now = time.monotonic()
        rate = self._settings.ws_messages_per_s
        self._excess = max(0.0, self._excess - (now - self._excess_at) * rate) + 1
        self._excess_at = now
        if self._excess > rate * FLOOD_BUDGET_S and not self.closed:
            metrics.WS_FLOOD_DROPPED.inc()
            self.drop("too many messages")

    def heard_control(self, ping: bytes | None) -> None:
        """A WebSocket ping (its payload) or pong (None) from the peer. It costs a message
        of the budget: websockets would answer every ping at once, into a write buffer
        the peer need never read. A ping within the budget gets its pong through
        `send`; past it, none (RFC 6455 lets an endpoint skip pongs to a burst)."""
        if not self.take_token():
            self.over_limit()
        elif ping is not None:
            self.send(pong_frame(ping))
