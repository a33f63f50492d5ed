"""The Sanic and websockets internals `app/ws/inbox.py` relies on, checked by shape.

The inbox replaces part of Sanic's WebSocket receive path and drives the `websockets`
sans-I/O parser directly, below either library's public API, so an upgrade of either
could move something it uses without any import failing. `problems()` checks each of
those things (names, signatures, the order of Sanic's steps and what the parser does
with a frame) and says which moved; `require()` (called by `setup_inbox`) refuses to
start the app then, with one message naming the versions, rather than serve sockets
that never receive a message. Checked against websockets 16.0-17.x and Sanic 25.x.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

CHECKED = "websockets >=16,<18 (Protocol.max_message_size is new in 16.0) and sanic 25.x"


class InternalsMoved(RuntimeError):
    """An internal the inbox uses is gone or changed shape."""


def _params(fn: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(fn).parameters)


def _websockets() -> list[str]:
    from websockets.frames import Frame, Opcode
    from websockets.protocol import State
    from websockets.server import ServerProtocol

    found = []
    opcodes = {"CONT": 0, "TEXT": 1, "BINARY": 2, "CLOSE": 8, "PING": 9, "PONG": 10}
    for name, value in opcodes.items():
        if getattr(Opcode, name, None) != value:
            found.append(f"websockets.frames.Opcode.{name} is not {value}")
    try:
        from websockets.speedups import apply_mask
    except ImportError:
        from websockets.utils import apply_mask
    if apply_mask(b"\x01\x02", b"\x01\x01\x01\x01") != b"\x00\x03":
        found.append("websockets apply_mask(data, mask) does not unmask")
    proto = ServerProtocol(max_size=1234, state=State.OPEN)
    if getattr(proto, "max_message_size", None) != 1234:
        found.append("websockets Protocol.max_message_size is not the max_size it was given")
    for method, params in (
        ("receive_data", ["data"]),
        ("events_received", []),
        ("data_to_send", []),
        ("recv_frame", ["frame"]),
    ):
        fn = getattr(proto, method, None)
        if fn is None or _params(fn) != params:
            found.append(f"websockets Protocol.{method}({', '.join(params)}) is gone or changed")
    if found:
        return found
    # What the inbox does with the parser: a ping handed to recv_frame queues its pong...
    proto.recv_frame(Frame(Opcode.PING, b"hi"))
    if proto.data_to_send() != [b"\x8a\x02hi"]:
        found.append("websockets Protocol.recv_frame(ping) no longer queues its pong")
    # ...and bytes fed to receive_data come out as frames.
    proto = ServerProtocol(state=State.OPEN)
    proto.receive_data(b"\x81\x82\x00\x00\x00\x00ok")
    events = proto.events_received()
    if [(e.opcode, e.data, e.fin) for e in events if isinstance(e, Frame)] != [
        (Opcode.TEXT, b"ok", True)
    ]:
        found.append("websockets Protocol.receive_data no longer yields Frame events")
    if proto.state is not State.OPEN:
        found.append("websockets Protocol.state is not State.OPEN on an open connection")
    return found


def _sanic() -> list[str]:
    from sanic import Sanic
    from sanic.server.protocols.websocket_protocol import WebSocketProtocol
    from sanic.server.websockets import impl
    from sanic.server.websockets.impl import WebsocketImplProtocol
    from sanic.signals import Event
    from websockets.protocol import State
    from websockets.server import ServerProtocol

    found = []
    init_names = WebsocketImplProtocol.__init__.__code__.co_names
    if not hasattr(impl, "WebsocketFrameAssembler") or "WebsocketFrameAssembler" not in (
        init_names
    ):
        found.append(
            "sanic WebsocketImplProtocol.__init__ no longer builds its assembler from "
            "sanic.server.websockets.impl.WebsocketFrameAssembler"
        )
    for attr in ("ws_proto", "io_proto", "assembler", "connection_lost_waiter"):
        if attr not in init_names:
            found.append(f"sanic WebsocketImplProtocol has no {attr} attribute")
    if _params(WebsocketImplProtocol.data_received) != ["self", "data"]:
        found.append("sanic WebsocketImplProtocol.data_received(self, data) changed")
    if _params(WebsocketImplProtocol.async_data_received) != [
        "self",
        "data_to_send",
        "events_to_process",
    ]:
        found.append(
            "sanic WebsocketImplProtocol.async_data_received"
            "(self, data_to_send, events_to_process) changed"
        )
    # The per-socket override is an instance attribute that Sanic's protocol calls.
    ws = WebsocketImplProtocol(ServerProtocol(state=State.OPEN))
    try:
        ws.data_received = len  # type: ignore[method-assign]
    except AttributeError:
        found.append("sanic WebsocketImplProtocol instances no longer take attributes")
    calls = set(WebSocketProtocol.data_received.__code__.co_names)
    if not {"websocket", "data_received"} <= calls:
        found.append("sanic WebSocketProtocol.data_received no longer calls ws.data_received")
    # The signal must come after the handshake and before the handler is scheduled.
    event = getattr(Event, "WEBSOCKET_HANDLER_BEFORE", None)
    order = ["websocket_handshake", "websocket.handler.before", "ensure_future"]
    steps = [i.argval for i in dis.get_instructions(Sanic._websocket_handler) if i.argval in order]
    if event is None or event.value != order[1] or steps[:3] != order:
        found.append(
            "sanic Sanic._websocket_handler no longer dispatches websocket.handler.before "
            "between the handshake and scheduling the handler"
        )
    return found


def problems() -> list[str]:
    """What moved, one line each; empty when everything the inbox uses is in place."""
    found = []
    for check in (_websockets, _sanic):
        try:
            found += check()
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            found.append(f"{check.__name__.lstrip('_')}: {type(exc).__name__}: {exc}")
    return found


def message(found: list[str]) -> str:
    return (
        f"app/ws/inbox.py was checked against {CHECKED}; with websockets "
        f"{version('websockets')} and sanic {version('sanic')} these moved: " + "; ".join(found)
    )


def require() -> None:
    found = problems()
    if found:
        raise InternalsMoved(message(found))
