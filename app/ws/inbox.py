"""A socket's incoming messages, taken straight off the WebSocket protocol parser.

Sanic's own receive path runs every message through a new Task, an `asyncio.wait`
on a new Future and three mutexes and two events of its frame assembler: several
task switches per message, which profiled as the largest removable cost of a vote
on this hot path. Only sockets upgraded on a route declared with `ctx_inbox=True`
(`/ws`) take this path; any other WebSocket route keeps Sanic's own, so a handler
written from Sanic's docs (`await ws.recv()`) works on the same app. `setup_inbox()`
gives such a socket its `Inbox` in Sanic's `websocket.handler.before` signal, which
Sanic dispatches inline right after the handshake, before the handler is scheduled
and before the socket's first bytes can be read, by pointing that socket's own
`data_received` at it (an inbox set up later, in the handler, would miss a message
that arrived between the upgrade and the handler's first step). The inbox feeds the
same `websockets` sans-I/O parser Sanic uses, queues complete data messages and
wakes the connection loop once per batch. Pings and pongs go to the socket's
`Connection` (`heard_control`): they cost a message of its budget, and a pong goes
out through the bounded write path. Sanic would answer each batch of pings from a
new task waiting for the transport to drain: a peer that pings and never reads grew
a process by 180 MB/s that way. Everything else (close frames, protocol errors such
as an over-size frame -> 1009) still goes through Sanic's `async_data_received`,
unchanged; the WebSocket tests cover each of them.

That parser is a chain of generators, a tenth of a web worker's CPU at 12k votes/s.
What clients actually send, whole masked text frames, pongs and the odd ping, is cut
here directly (`_take_frames`, unmasking in websockets' C helper). The first frame
of any other kind (close, fragments, reserved bits, an unmasked or over-size frame)
and all bytes after it go to the websockets parser for the rest of the connection,
so its checks and close codes apply exactly as before.

All this leans on internals of websockets (16.0 and later: `Protocol.max_message_size`)
and of Sanic 25, listed and checked in `app/ws/internals.py`: `setup_inbox()` refuses
to start when one moved, naming it and the installed versions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sanic import Request
from sanic.server.websockets import impl as sanic_ws
from sanic.server.websockets.frame import WebsocketFrameAssembler
from sanic.server.websockets.impl import WebsocketImplProtocol
from sanic.signals import Event
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from app.context import App
from app.ws import internals

try:
    from websockets.speedups import apply_mask
except ImportError:  # no C extension built for this platform: the same, in Python
    from websockets.utils import apply_mask

if TYPE_CHECKING:
    from app.ws.connection import Connection

_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)
# First header byte (FIN set, no reserved bits) -> opcode, for the frames cut here.
_TAKEN = {0x81: Opcode.TEXT, 0x82: Opcode.BINARY, 0x89: Opcode.PING, 0x8A: Opcode.PONG}
MAX_CONTROL_PAYLOAD = 125
# Past this many unhandled messages the socket stops reading: TCP pushes back on a
# client that sends faster than its messages are handled, and memory stays bounded.
HIGH_WATER = 64


_ATTR = "_livepolls_inbox"


def setup_inbox(app: App) -> None:
    """Give the sockets of `ctx_inbox=True` routes an Inbox from their first byte."""
    internals.require()
    # Every socket is built with one (Sanic builds it in WebsocketImplProtocol.__init__,
    # before its route is known); it defers to the real assembler when one is needed.
    sanic_ws.WebsocketFrameAssembler = LazyAssembler  # type: ignore[attr-defined,assignment]
    app.add_signal(_adopt, Event.WEBSOCKET_HANDLER_BEFORE.value)


def _adopt(request: Request, websocket: WebsocketImplProtocol) -> None:
    # Synchronous, and dispatched inline: nothing runs between the handshake and this.
    route = request.route
    if route is not None and getattr(route.ctx, "inbox", False):
        Inbox.attach(websocket)


class LazyAssembler:
    """Stands in for Sanic's frame assembler, built with every socket for its `recv()`,
    which the inbox replaces: a Queue, two Events and two Locks, ~4 KB a socket and a
    twentieth of the web CPU of a reconnect storm, and no message ever reaches it.
    Sanic only hands it the control frames the inbox passes on, which the assembler
    ignores; anything else (a data frame, a `ws.recv()` call) builds the real one."""

    __slots__ = ("_protocol", "_real")

    def __init__(self, protocol: WebsocketImplProtocol) -> None:
        self._protocol = protocol
        self._real: WebsocketFrameAssembler | None = None

    def real(self) -> WebsocketFrameAssembler:
        if self._real is None:
            self._real = WebsocketFrameAssembler(self._protocol)
        return self._real

    async def put(self, frame: Frame) -> None:
        if frame.opcode in _DATA:  # the real one ignores the rest as well
            await self.real().put(frame)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


class Inbox:
    @classmethod
    def attach(cls, ws: WebsocketImplProtocol) -> Inbox:
        """Route this socket's incoming bytes (and only this socket's) through an Inbox:
        Sanic's WebSocketProtocol calls `ws.data_received`, found on the instance first."""
        inbox = cls(ws)
        setattr(ws, _ATTR, inbox)
        ws.data_received = inbox.feed  # type: ignore[method-assign]
        return inbox

    @classmethod
    def of(cls, ws: WebsocketImplProtocol) -> Inbox:
        """The inbox `attach` gave this socket (its route must say `ctx_inbox=True`)."""
        inbox: Inbox | None = getattr(ws, _ATTR, None)
        if inbox is None:
            raise RuntimeError("this socket has no Inbox: its route lacks ctx_inbox=True")
        return inbox

    def __init__(self, ws: WebsocketImplProtocol) -> None:
        self._ws = ws
        self._messages: list[bytes] = []  # short (HIGH_WATER): see Connection._backlog
        self._partial: list[bytes] = []
        self._waiter: asyncio.Future[None] | None = None
        self._closing = False
        self._paused = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watching = False
        self._cutting = True
        self._head = b""  # the start of a frame not yet complete (while cutting)
        # Bytes arrived since the keepalive last looked (app/ws/keepalive.py).
        self.heard = True
        # Takes a message without the socket's coroutine (a VOTE: see
        # MessageHandler.vote_now) and calls back when it is answered.
        self.fast: Callable[[bytes, Callable[[], None]], bool] | None = None
        self._in_flight = False
        # Takes pings and pongs once the socket's coroutine set it (until then, for
        # the few bytes before it starts, they go to Sanic as before).
        self.conn: Connection | None = None

    def feed(self, data: bytes) -> None:
        self.heard = True
        proto = self._ws.ws_proto
        if self._cutting:
            rest = self._take_frames(data)
            if rest is not None:
                self._cutting = False
                data = rest
        if not self._cutting:
            proto.receive_data(data)
        control = []
        for event in proto.events_received():
            if isinstance(event, Frame) and event.opcode in _DATA:
                self._partial.append(bytes(event.data))
                if event.fin:
                    self._messages.append(b"".join(self._partial))
                    self._partial.clear()
            else:
                control.append(event)
                if isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    self._closing = True
        to_send = proto.data_to_send()
        conn = self.conn
        if control and conn is not None and not self._closing and proto.state is State.OPEN:
            # Only pings and pongs (a close sets _closing): count them, and send the
            # pongs websockets queued the bounded way, not from a task that would
            # wait on the transport, holding them, for as long as the peer won't read.
            for _ in control:
                if conn.closed:
                    break
                conn.heard_control(None)
            for chunk in to_send:
                conn.send(chunk)
            to_send, control = [], []
        if to_send or control:
            task = asyncio.get_running_loop().create_task(
                self._ws.async_data_received(to_send, control)  # type: ignore[no-untyped-call]
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if proto.state is not State.OPEN:
            self._closing = True
        if len(self._messages) >= HIGH_WATER and not self._paused:
            self._paused = True
            self._ws.io_proto.transport.pause_reading()  # type: ignore[union-attr]
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand the next message to `fast` if it may go there, else wake the coroutine.
        A socket's messages are answered in order: `fast` gets one only while the
        coroutine waits for input with nothing queued before it, and one at a time."""
        messages = self._messages
        if messages and self.fast is not None and not self._in_flight:
            waiter = self._waiter
            if waiter is not None and not waiter.done() and self.fast(messages[0], self._settled):
                messages.pop(0)
                self._in_flight = True
        if (messages and not self._in_flight) or self._closing:
            self._wake()

    def _settled(self) -> None:
        self._in_flight = False
        self._dispatch()

    def _take_frames(self, data: bytes) -> bytes | None:
        """Queue the complete data frames, hand pings and pongs to the protocol; keep an
        incomplete frame for the next call. Returns the bytes from the first frame not
        cut here on, for the websockets parser (which has seen nothing so far, so it
        starts at that frame's first byte), or None."""
        proto = self._ws.ws_proto
        buf = self._head + data if self._head else data
        pos, end = 0, len(buf)
        limit = proto.max_message_size
        while end - pos >= 2:
            opcode = _TAKEN.get(buf[pos])
            length = buf[pos + 1] ^ 0x80  # the mask bit must be set: < 128 then
            if opcode is None or length > 0x7F or proto.state is not State.OPEN:
                self._head = b""
                return buf[pos:]
            head = pos + 6
            if length == 126:
                head = pos + 8
                if end < head:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            elif length == 127:
                head = pos + 14
                if end < head:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            if (limit is not None and length > limit) or (
                length > MAX_CONTROL_PAYLOAD and opcode not in _DATA
            ):
                self._head = b""
                return buf[pos:]
            if end < head + length:
                break
            payload = apply_mask(buf[head : head + length], buf[head - 4 : head])
            pos = head + length
            if opcode in _DATA:
                self._messages.append(payload)
            elif self.conn is not None:
                # A pong only proves the peer alive, which `heard` already says: nothing
                # pings through Sanic (its keepalive is off), so no one awaits it there.
                self.conn.heard_control(payload if opcode is Opcode.PING else None)
            elif opcode is Opcode.PING:
                proto.recv_frame(Frame(opcode, payload))  # queues its pong
        self._head = buf[pos:]
        return None

    def _end(self) -> None:
        self._closing = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> bytes | None:
        """The next complete message, or None once the peer closed or the socket died."""
        if not self._watching and self._ws.connection_lost_waiter is not None:
            self._watching = True
            self._ws.connection_lost_waiter.add_done_callback(lambda _: self._end())
        while not self._messages or self._in_flight:
            if self._closing and not self._messages:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        if self._paused and len(self._messages) <= HIGH_WATER // 2:
            self._paused = False
            self._ws.io_proto.transport.resume_reading()  # type: ignore[union-attr]
        return self._messages.pop(0)
