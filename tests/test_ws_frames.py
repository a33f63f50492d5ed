"""The socket's receive path (app/ws/inbox.py) fed hand-made frames over a real socket.

Whole masked frames are cut by the inbox itself; everything else goes to the websockets
parser from that frame on. These tests write raw bytes to the client's transport, so
frames arrive split and packed in ways a well-behaved client library never produces.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer
from tests.wsclient import PING, WsClient, frame


def ping_message(ref: str, pad: int = 0) -> bytes:
    return json.dumps({"type": "PING", "ref": ref, "pad": "x" * pad}).encode()


async def pongs(ws: WsClient, n: int) -> list[str]:
    return [(await ws.recv())["ref"] for _ in range(n)]


async def test_frames_split_anywhere_or_packed_together_are_each_one_message(
    live_server: LiveServer, make_person: Any
) -> None:
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    transport: Any = ws.conn.transport
    # A short frame, one with a 16-bit length and another short one. (A 64-bit length
    # is over ws_max_message_bytes: test_oversized_frame_closes_1009.)
    stream = b"".join(
        frame(ping_message(ref, pad)) for ref, pad in (("a", 0), ("b", 3000), ("c", 10))
    )
    for size in (1, 2, 3, 7, 1000):
        for i in range(0, len(stream), size):
            transport.write(stream[i : i + size])
            await asyncio.sleep(0)  # separate TCP segments, mostly
        assert await pongs(ws, 3) == ["a", "b", "c"]
    transport.write(stream * 8)  # 39 messages in all: under ws_messages_per_s (50)
    assert await pongs(ws, 24) == ["a", "b", "c"] * 8
    await ws.close()


async def test_pings_fragments_and_what_follows_them_are_answered(
    live_server: LiveServer, make_person: Any
) -> None:
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    pong = await ws.conn.ping(b"are you there")
    await asyncio.wait_for(pong, 5)
    # A message in three fragments (text, continuation, final continuation).
    await ws.conn.send(iter(['{"type": "PI', 'NG", "r', 'ef": "fragmented"}']))
    assert (await ws.recv())["ref"] == "fragmented"
    # From here on the websockets parser reads the socket: all the same to the client.
    pong = await ws.conn.ping(b"still there")
    await asyncio.wait_for(pong, 5)
    transport: Any = ws.conn.transport
    raw = frame(ping_message("split"))
    transport.write(raw[:3])
    await asyncio.sleep(0.05)
    transport.write(raw[3:] + frame(b"ping payload", opcode=PING))
    assert (await ws.request(type="PING", ref="after"))["ref"] == "after"
    assert [m["ref"] for m in ws.seen] == ["fragmented", "split", "after"]
    await ws.close()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (frame(b'{"type": "PING"}', masked=False), 1002),  # clients must mask
        (frame(b"x" * 200, opcode=PING), 1002),  # control frames carry <= 125 bytes
        (bytes([0xC1, 0x80]) + b"\0\0\0\0", 1002),  # a reserved bit without an extension
        (frame(b"", opcode=0x0), 1002),  # a continuation of nothing
    ],
    ids=["unmasked", "long-ping", "rsv1", "stray-continuation"],
)
async def test_frames_breaking_the_protocol_close_the_socket(
    live_server: LiveServer, make_person: Any, raw: bytes, code: int
) -> None:
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    transport: Any = ws.conn.transport
    transport.write(frame(ping_message("cut here")))
    assert (await ws.recv())["ref"] == "cut here"
    transport.write(raw + frame(ping_message("never")))
    with pytest.raises(ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == code
