"""Tokens on sockets: refused at the handshake once revoked, closed with 4401 on
logout from any process and when they expire."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import TEST_JWT_SECRET, LiveServer, ServerProcess
from tests.wsclient import WsClient


async def close_code(ws: WsClient, within: float) -> int | None:
    """The close code the server sends within `within` seconds (skipping messages)."""
    async with asyncio.timeout(within):
        while True:
            try:
                await ws.recv(within=within)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None


async def test_logged_out_token_is_refused_at_the_handshake(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    person = await make_person()
    r = await client.post("/auth/logout", headers=person.headers)
    assert r.status_code == 204
    with pytest.raises(InvalidStatus) as info:
        await WsClient.open(live_server.ws_url, person.token)
    assert info.value.response.status_code == 401


@pytest.mark.multiprocess
async def test_logout_closes_sockets_on_another_process_with_4401(
    make_person: Any, server_process: Any
) -> None:
    socket_side: ServerProcess = server_process()
    logout_side: ServerProcess = server_process()
    person, bystander = await make_person(), await make_person()
    ws = await WsClient.open(socket_side.ws_url, person.token)
    other = await WsClient.open(socket_side.ws_url, bystander.token)
    assert (await ws.request(type="PING"))["type"] == "PONG"
    async with httpx.AsyncClient(base_url=logout_side.base_url) as http:
        started = time.monotonic()
        r = await http.post("/auth/logout", headers=person.headers)
        assert r.status_code == 204
        assert await close_code(ws, within=1.0) == 4401
        assert time.monotonic() - started < 1.0
    assert (await other.request(type="PING"))["type"] == "PONG"
    await other.close()


async def test_socket_closes_4401_when_its_token_expires(
    live_server: LiveServer, make_person: Any
) -> None:
    person = await make_person()
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": str(person.user_id),
            "iat": now,
            "exp": now + 2,
            "jti": uuid.uuid4().hex,
            "iss": "livepolls",
            "guest": False,
        },
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    ws = await WsClient.open(live_server.ws_url, token)
    assert (await ws.request(type="PING"))["type"] == "PONG"
    assert await close_code(ws, within=6) == 4401


async def test_logout_closes_older_sessions_of_the_user_but_not_newer_ones(
    live_server: LiveServer, make_person: Any, client: httpx.AsyncClient
) -> None:
    person = await make_person()
    now = int(time.time())

    def token(iat: int) -> str:
        claims = {
            "sub": str(person.user_id),
            "iat": iat,
            "exp": iat + 600,
            "jti": uuid.uuid4().hex,
            "iss": "livepolls",
            "guest": False,
        }
        return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")

    older = await WsClient.open(live_server.ws_url, token(now - 30))
    newer = await WsClient.open(live_server.ws_url, token(now + 5))
    r = await client.post("/auth/logout", headers=person.headers)
    assert r.status_code == 204
    # The durable mark refuses tokens issued before the logged-out one's second + 1.
    assert await close_code(older, within=2) == 4401
    assert (await newer.request(type="PING"))["type"] == "PONG"
    await newer.close()
