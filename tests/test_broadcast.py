"""Coalescing windows of the room hub (app/ws/hub.py), over real sockets.

The settings here make the per-member window large enough to see at test scale:
100 ms per local member, so a room of 3 sockets flushes RESULTS at most every 300 ms.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx
import pytest
import redis as redis_sync

from app.config import Settings, load_settings
from tests.conftest import LiveServer
from tests.test_polls import create, vote
from tests.wsclient import WsClient

MEMBER_MS = 100
PRESENCE_MS = 800


@pytest.fixture
def settings(settings_env: dict[str, str], redis: redis_sync.Redis) -> Settings:
    return load_settings(
        **{k.lower(): v for k, v in settings_env.items()},
        broadcast_member_us=MEMBER_MS * 1000,
        presence_window_ms=PRESENCE_MS,
    )


def _gaps(frames: list[tuple[float, dict[str, Any]]]) -> list[float]:
    return [b - a for (a, _), (b, _) in itertools.pairwise(frames)]


async def _collect(ws: WsClient, kind: str, for_s: float) -> list[tuple[float, dict[str, Any]]]:
    seen: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + for_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await ws.recv(within=left)
        except TimeoutError:
            break
        if message["type"] == kind:
            seen.append((time.monotonic(), message))
    return seen


async def test_a_bigger_room_gets_fewer_fuller_results(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    members = [
        await WsClient.open(live_server.ws_url, (await make_person()).token) for _ in range(3)
    ]
    for ws in members:
        await ws.request(type="JOIN_POLL", poll_id=poll["id"])
    watcher = members[0]
    voters = [await make_person(guest=True) for _ in range(8)]

    async def votes() -> None:
        for person in voters:  # one every 40 ms: a 50 ms window would flush almost each
            assert (await vote(client, person, poll, 0)).status_code == 200
            await asyncio.sleep(0.04)

    collecting = asyncio.create_task(_collect(watcher, "RESULTS", 2.0))
    await votes()
    frames = await collecting
    seqs = [m["seq"] for _, m in frames]
    assert seqs[-1] == 8 and frames[-1][1]["total"] == 8
    assert seqs == sorted(seqs)
    window = 3 * MEMBER_MS / 1000
    gaps = _gaps(frames)
    assert all(g > window * 0.8 for g in gaps), gaps
    assert len(frames) <= 3, seqs
    for ws in members:
        await ws.close()


async def test_presence_is_coalesced_on_its_own_longer_window(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    watcher = await WsClient.joined(live_server.ws_url, owner.token, poll["id"])
    collecting = asyncio.create_task(_collect(watcher, "PRESENCE", 2.5))
    joiners = []
    for _ in range(6):  # one every 60 ms
        ws = await WsClient.open(live_server.ws_url, (await make_person(guest=True)).token)
        await ws.request(type="JOIN_POLL", poll_id=poll["id"])
        joiners.append(ws)
        await asyncio.sleep(0.06)
    frames = await collecting
    assert frames and frames[-1][1]["viewers"] == 7
    gaps = _gaps(frames)
    assert len(frames) <= 2 and all(g > PRESENCE_MS / 1000 * 0.8 for g in gaps), frames
    for ws in joiners:
        await ws.close()
    await watcher.close()
