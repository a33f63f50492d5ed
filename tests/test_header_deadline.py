"""The total header deadline (app/header_deadline.py) on the real web process.

A slowloris client that trickles an upgrade request's headers is closed within the
deadline, however steadily it sends; a slow client that completes its headers in
time, a WebSocket session longer than the deadline and an idle kept-alive connection
are not affected.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.wsclient import WsClient

DEADLINE_S = 2.0
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"X-Padding: " + b"x" * 200 + b"\r\n\r\n"
)


async def trickle(port: int, data: bytes, every_s: float, limit_s: float) -> tuple[float, bytes]:
    """Send `data` one byte every `every_s`; return (seconds until the server closed the
    connection, what it answered). Gives up (returns limit_s) after `limit_s`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    answer = b""
    try:
        for byte in data:
            writer.write(bytes([byte]))
            try:
                answer += await asyncio.wait_for(reader.read(4096), every_s)
            except TimeoutError:
                pass
            except ConnectionError:
                return time.monotonic() - started, answer
            if reader.at_eof():
                return time.monotonic() - started, answer
            if time.monotonic() - started > limit_s:
                break
        return limit_s, answer
    finally:
        writer.close()


async def test_trickled_upgrade_headers_are_cut_at_the_deadline(server_process: Any) -> None:
    server = server_process(HEADER_TIMEOUT_S=str(DEADLINE_S))
    held_s, answer = await trickle(server.port, UPGRADE, every_s=0.5, limit_s=30)
    # The whole request would take 2 min at this pace; it is cut at the deadline.
    assert DEADLINE_S * 0.9 <= held_s < 3 * DEADLINE_S, held_s
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer


async def test_silence_after_accept_is_cut_too(server_process: Any) -> None:
    server = server_process(HEADER_TIMEOUT_S=str(DEADLINE_S))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), 3 * DEADLINE_S) == b""
    assert time.monotonic() - started >= DEADLINE_S * 0.9
    writer.close()


async def test_slow_complete_clients_and_long_sessions_are_unaffected(server_process: Any) -> None:
    server = server_process(HEADER_TIMEOUT_S=str(DEADLINE_S))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    # Slow but complete within the deadline: four pieces over ~1.2 s.
    for i in range(0, len(request), 12):
        writer.write(request[i : i + 12])
        await asyncio.sleep(0.3)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200"), head
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    await reader.readexactly(length)
    # Idle on the kept-alive connection for longer than the deadline: the next request
    # gets its own clock from its first byte.
    await asyncio.sleep(DEADLINE_S * 1.5)
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200"), head
    writer.close()

    # A WebSocket session outlives the deadline: only the upgrade's headers had one.
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        token = (await c.post("/auth/guest", json={})).json()["access_token"]
    ws = await WsClient.open(server.ws_url, token)
    await asyncio.sleep(DEADLINE_S * 1.5)
    assert (await ws.request(type="PING"))["type"] == "PONG"
    await ws.close()
