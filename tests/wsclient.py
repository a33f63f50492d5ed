"""Small WebSocket test clients speaking PROTOCOL.md over a real socket.

`WsClient` is a well-behaved client (the `websockets` library: it answers pings on
its own). `RawWs` is a bare socket that does only what the test tells it, such as
falling silent like a phone that left the building.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


class WsClient:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, token: str | None = None, **kwargs: Any) -> WsClient:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        conn = await connect(
            url,
            additional_headers=headers,
            compression=None,
            open_timeout=10,
            max_size=2**22,
            **kwargs,
        )
        return cls(conn)

    @classmethod
    async def joined(cls, url: str, token: str, poll_id: int) -> WsClient:
        """A client already in the poll's room (its JOINED read)."""
        ws = await cls.open(url, token)
        await ws.request(type="JOIN_POLL", poll_id=poll_id)
        return ws

    async def send(self, **message: Any) -> None:
        await self.conn.send(json.dumps(message))

    async def recv(self, within: float = 5) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.conn.recv(), within))
        self.seen.append(message)
        return message

    async def recv_until(
        self, pred: Callable[[dict[str, Any]], bool], within: float = 10
    ) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                message = await self.recv(within)
                if pred(message):
                    return message

    async def request(self, within: float = 5, **message: Any) -> dict[str, Any]:
        """Send with a fresh ref and wait for the reply carrying it."""
        ref = message.setdefault("ref", f"r{id(message)}")
        await self.send(**message)
        return await self.recv_until(lambda m: m.get("ref") == ref, within)

    async def close(self) -> None:
        await self.conn.close()


TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def frame(payload: bytes, *, opcode: int = TEXT, fin: bool = True, masked: bool = True) -> bytes:
    """A client frame as RFC 6455 lays it out."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        header = struct.pack("!BB", first, mask_bit | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawWs:
    """A WebSocket client with no library behind it: it answers nothing by itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, ws_url: str, token: str) -> RawWs:
        host, _, rest = ws_url.removeprefix("ws://").partition(":")
        port, _, path = rest.partition("/")
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /{path}?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, **message: Any) -> None:
        self.writer.write(frame(json.dumps(message).encode()))

    async def recv_frame(self, within: float = 5) -> tuple[int, bytes]:
        """The next server frame as (opcode, payload); server frames are unmasked."""
        async with asyncio.timeout(within):
            first, length = await self.reader.readexactly(2)
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            return first & 0x0F, await self.reader.readexactly(length)

    async def recv(self, within: float = 5) -> dict[str, Any]:
        """The next JSON message, skipping control frames."""
        async with asyncio.timeout(within):
            while True:
                opcode, payload = await self.recv_frame(within)
                if opcode == TEXT:
                    message: dict[str, Any] = json.loads(payload)
                    return message

    def close(self) -> None:
        self.writer.close()
