"""Dead-socket detection (app/ws/keepalive.py) against real peers over real sockets.

The ghost is a bare socket that stops sending anything after its JOIN, the way a
phone that lost its network does (no FIN, no pongs); the watcher is a well-behaved
client that answers pings but never sends a message of its own either.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.conftest import LiveServer
from tests.test_polls import create
from tests.wsclient import CLOSE, PING, TEXT, RawWs, WsClient

INTERVAL = 0.3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ws_ping_interval_s": INTERVAL, "presence_window_ms": 1})


async def test_a_silent_peer_is_pinged_then_dropped_and_stops_counting_as_a_viewer(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    watcher = await WsClient.joined(live_server.ws_url, owner.token, poll["id"])
    ghost = await RawWs.open(live_server.ws_url, (await make_person(guest=True)).token)
    ghost.send(type="JOIN_POLL", poll_id=poll["id"])
    assert (await ghost.recv())["viewers"] == 2
    await watcher.recv_until(lambda m: m["type"] == "PRESENCE" and m["viewers"] == 2)

    opcodes = []
    async with asyncio.timeout(3 * INTERVAL + 5):
        while True:
            opcode, payload = await ghost.recv_frame(within=10)
            opcodes.append(opcode)
            if opcode == CLOSE:
                break
    assert PING in opcodes, opcodes
    assert struct.unpack("!H", payload[:2]) == (1011,)
    assert await asyncio.wait_for(ghost.reader.read(), 5) == b""  # and the TCP connection
    ghost.close()

    gone = await watcher.recv_until(lambda m: m["type"] == "PRESENCE", within=5)
    assert gone["viewers"] == 1
    # The watcher was pinged too (it said nothing for as long) and is still here.
    assert (await watcher.request(type="PING"))["type"] == "PONG"
    await watcher.close()


async def test_a_peer_that_talks_is_never_pinged(live_server: LiveServer, make_person: Any) -> None:
    chatty = await RawWs.open(live_server.ws_url, (await make_person(guest=True)).token)
    opcodes = []
    for i in range(12):  # four intervals, three messages in each
        chatty.send(type="PING", ref=str(i))
        while True:
            opcode, payload = await chatty.recv_frame()
            opcodes.append(opcode)
            if opcode == TEXT:
                assert json.loads(payload) == {"type": "PONG", "ref": str(i)}
                break
        await asyncio.sleep(INTERVAL / 3)
    assert PING not in opcodes and opcodes == [TEXT] * 12
    chatty.close()
