"""Dead-socket detection for all of a process's sockets, from one task.

A phone that walks out of the venue's Wi-Fi sends no FIN: without pings its socket,
its room memberships and its place in the viewer count would linger until TCP gives
up, hours later. Sanic pings from a task per socket (a sleep, a ping future, a
`wait_for` and a lock per ping, and a task per pong): with 20,000 idle sockets that
was a tenth of a core and a long-lived task per socket. Here one task visits a
`SLICES`-th of the sockets every `interval / SLICES` seconds, so each socket is seen
once per interval and the pings of a full venue are spread evenly, never a burst:

- a socket that sent anything since the last visit is alive, and is not pinged
  (a phone that votes or answered the last ping costs nothing more);
- a silent one gets a ping;
- one still silent a whole interval after its ping is dropped with 1011.

So a vanished peer is gone 2-3 intervals after the last byte it sent. What counts as
hearing from a socket is any bytes arriving (`Inbox.heard`), pongs included.
"""

from __future__ import annotations

import asyncio
from typing import Final

from app.ws.connection import Connection
from app.ws.inbox import Inbox

SLICES: Final = 20
CLOSE_NO_PONG: Final = 1011
# An empty PING frame: server frames are never masked.
PING_FRAME: Final = b"\x89\x00"


class Keepalive:
    def __init__(self, interval_s: float) -> None:
        self._step = interval_s / SLICES
        # Each slice maps its sockets to "pinged and not heard from since".
        self._slices: list[dict[Connection, bool]] = [{} for _ in range(SLICES)]
        self._slice_of: dict[Connection, int] = {}
        self._turn = 0
        self._added = 0

    def add(self, conn: Connection) -> None:
        """Round robin, so the slices stay even whatever order sockets come in."""
        index = self._added % SLICES
        self._added += 1
        self._slice_of[conn] = index
        self._slices[index][conn] = False

    def discard(self, conn: Connection) -> None:
        index = self._slice_of.pop(conn, None)
        if index is not None:
            del self._slices[index][conn]

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._step)
            self.visit(self._slices[self._turn])
            self._turn = (self._turn + 1) % SLICES

    @staticmethod
    def visit(sockets: dict[Connection, bool]) -> None:
        silent = []
        for conn, pinged in sockets.items():
            inbox = Inbox.of(conn.ws)
            if inbox.heard:
                inbox.heard = False
                if pinged:
                    sockets[conn] = False
            elif not pinged:
                sockets[conn] = True
                conn.send(PING_FRAME)
            else:
                silent.append(conn)
        for conn in silent:
            conn.drop("no pong: the peer is gone", CLOSE_NO_PONG)
