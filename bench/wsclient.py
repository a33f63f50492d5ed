"""A minimal WebSocket client (RFC 6455) on a bare asyncio Protocol.

The generator shares two cores with the server it measures, so a client must cost
far less per message than the server does. This one does no per-message task or
future: `data_received` parses every complete frame of a read and hands text
payloads to `on_message(client, payload, now)` with one clock reading per read.
It answers server pings, answers a close handshake, and masks its own frames with
a random per-connection key as the RFC requires. No extensions (no compression),
no fragmented sends; fragmented receives are reassembled.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable
from typing import cast

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

MessageHandler = Callable[["WsClient", bytes, float], None]
DropHandler = Callable[["WsClient"], None]


class HandshakeError(Exception):
    """The server refused the upgrade (status is the HTTP status, 0 when unparsable)."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"handshake refused: HTTP {status} {detail}".strip())
        self.status = status


def _ignore_message(client: WsClient, payload: bytes, now: float) -> None:
    return None


def _ignore_drop(client: WsClient) -> None:
    return None


class WsClient(asyncio.Protocol):
    """One client socket. Attributes after the handshake are free for scenario use."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        *,
        path: str = "/ws",
        on_message: MessageHandler = _ignore_message,
        on_drop: DropHandler = _ignore_drop,
    ) -> None:
        self.host, self.port, self.token, self.path = host, port, token, path
        self.on_message = on_message
        self.on_drop = on_drop
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.upgraded = False
        self.closing = False  # we started the close: connection_lost is not a drop
        self.close_code: int | None = None
        self.pings = 0
        self._buf = b""
        self._frag: list[bytes] = []
        self._key = base64.b64encode(os.urandom(16))
        mask = os.urandom(4)
        self._mask = mask
        self._mask_int_cache: dict[int, int] = {}
        # scenario state
        self.user_id = 0
        self.room = 0  # the poll this member joined at connect (0: none)
        self.index = 0
        self.seq = -1  # highest results seq seen (JOINED or RESULTS)
        self.frames = 0  # RESULTS frames received
        # Sessions: poll id -> when a SESSION_STATE first showed it; poll id -> when a
        # frame first carried its counts (since the last `forget_counts`).
        self.shown: dict[int, float] = {}
        self.counts_seen: dict[int, float] = {}
        self.log: list[tuple[float, int]] | None = None  # (receive time, seq) when sampled
        self.slow = False
        self.join_waiter: asyncio.Future[int] | None = None

    # ---- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        request = (
            f"GET {self.path} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {self.token}\r\n"
            "\r\n"
        )
        transport.write(request.encode())

    def data_received(self, data: bytes) -> None:
        if self._buf:
            data = self._buf + data
            self._buf = b""
        if not self.upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buf = data
                return
            self._finish_handshake(data[:end])
            if not self.upgraded:
                return
            data = data[end + 4 :]
            if not data:
                return
        self._frames(data, time.monotonic())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost before upgrade: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.closing:
            self.on_drop(self)

    # ---- sending ----------------------------------------------------------------------

    def frame(self, payload: bytes) -> bytes:
        """The wire bytes of one masked text frame for this connection (build them ahead
        of a timed schedule, then `send_frame` costs one write)."""
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0xFE, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0xFF, n)
        return header + self._mask + self._masked(payload)

    def send_text(self, payload: bytes) -> None:
        """Send one masked text frame (no-op when the socket is gone)."""
        if self.transport is not None:
            self.transport.write(self.frame(payload))

    def send_frame(self, frame: bytes) -> bool:
        """Write a frame built by `frame`; False when the socket is gone or closing."""
        transport = self.transport
        if transport is None or self.closing:
            return False
        transport.write(frame)
        return True

    def _send_control(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None:
            n = len(payload)  # control payloads are at most 125 bytes
            self.transport.write(
                bytes((0x80 | opcode, 0x80 | n)) + self._mask + self._masked(payload)
            )

    def _masked(self, payload: bytes) -> bytes:
        n = len(payload)
        if n == 0:
            return payload
        m = self._mask_int_cache.get(n)
        if m is None:
            m = int.from_bytes((self._mask * (n // 4 + 1))[:n], "big")
            if len(self._mask_int_cache) < 256:
                self._mask_int_cache[n] = m
        return (int.from_bytes(payload, "big") ^ m).to_bytes(n, "big")

    def close(self, code: int = 1000) -> None:
        """Start a clean close: send the close frame and a FIN; do not count it as a drop."""
        self.closing = True
        if self.transport is not None:
            if self.upgraded:
                self._send_control(OP_CLOSE, struct.pack("!H", code))
            self.transport.close()

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    @property
    def is_open(self) -> bool:
        return self.upgraded and self.transport is not None and not self.closing

    # ---- parsing ----------------------------------------------------------------------

    def _finish_handshake(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            status = 0
        if status != 101:
            self._fail(
                HandshakeError(status, parts[2].decode(errors="replace") if len(parts) > 2 else "")
            )
            return
        expected = base64.b64encode(hashlib.sha1(self._key + GUID).digest())
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-accept" and value.strip() == expected:
                break
        else:
            self._fail(HandshakeError(status, "bad Sec-WebSocket-Accept"))
            return
        self.upgraded = True
        if not self.opened.done():
            self.opened.set_result(None)

    def _fail(self, exc: Exception) -> None:
        self.closing = True
        if not self.opened.done():
            self.opened.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def _frames(self, data: bytes, now: float) -> None:
        i = 0
        end = len(data)
        on_message = self.on_message
        while True:
            if end - i < 2:
                break
            b0 = data[i]
            n = data[i + 1] & 0x7F
            head = 2
            if n == 126:
                if end - i < 4:
                    break
                n = (data[i + 2] << 8) | data[i + 3]
                head = 4
            elif n == 127:
                if end - i < 10:
                    break
                n = int.from_bytes(data[i + 2 : i + 10], "big")
                head = 10
            if data[i + 1] & 0x80:  # servers must not mask; tolerate it anyway
                if end - i < head + 4 + n:
                    break
                key = data[i + head : i + head + 4]
                raw = data[i + head + 4 : i + head + 4 + n]
                rep = int.from_bytes((key * (n // 4 + 1))[:n], "big")
                payload = (int.from_bytes(raw, "big") ^ rep).to_bytes(n, "big") if n else b""
                head += 4
            else:
                if end - i < head + n:
                    break
                payload = data[i + head : i + head + n]
            i += head + n
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode in (OP_TEXT, OP_BINARY):
                if fin:
                    on_message(self, payload, now)
                else:
                    self._frag = [payload]
            elif opcode == OP_CONT:
                self._frag.append(payload)
                if fin:
                    whole = b"".join(self._frag)
                    self._frag = []
                    on_message(self, whole, now)
            elif opcode == OP_PING:
                self.pings += 1
                self._send_control(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                if not self.closing:
                    # the server closed: answer, and this is a drop unless we asked for it
                    self._send_control(OP_CLOSE, payload[:2])
                if self.transport is not None:
                    self.transport.close()
                return
        if i < end:
            self._buf = data[i:]


async def open_client(
    host: str,
    port: int,
    token: str,
    *,
    timeout_s: float = 10.0,
    on_message: MessageHandler = _ignore_message,
    on_drop: DropHandler = _ignore_drop,
) -> WsClient:
    """Connect and complete the upgrade; raise HandshakeError / OSError / TimeoutError."""
    loop = asyncio.get_running_loop()
    client = WsClient(host, port, token, on_message=on_message, on_drop=on_drop)

    async def go() -> None:
        await loop.create_connection(lambda: client, host, port)
        await client.opened

    try:
        await asyncio.wait_for(go(), timeout_s)
    except BaseException:
        client.abort()
        raise
    return client
