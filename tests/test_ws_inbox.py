"""The fast receive path (app/ws/inbox.py) is `/ws`'s alone.

Another WebSocket route on the same app, written as Sanic's docs write one, gets its
messages through `ws.recv()`; and the internals the inbox patches are where it
expects them, or the app refuses to start, saying which moved.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sanic import Request
from sanic.server.websockets.impl import WebsocketImplProtocol
from websockets.asyncio.client import connect

from app.config import Settings
from app.context import App
from app.main import create_app
from app.ws import internals
from tests.conftest import LiveServer
from tests.wsclient import WsClient


@pytest.fixture
def app(settings: Settings) -> App:
    """The service plus an echo route as in Sanic's WebSocket guide."""
    app = create_app(settings)

    @app.websocket("/echo")  # type: ignore[untyped-decorator]
    async def echo(request: Request, ws: WebsocketImplProtocol) -> None:
        while True:
            msg = await ws.recv()
            assert msg is not None  # recv returns None only on a timeout, and has none
            await ws.send(msg)

    return app


async def test_another_websocket_route_receives_as_sanic_documents(
    live_server: LiveServer, make_person: Any
) -> None:
    person = await make_person()
    ours = await WsClient.open(live_server.ws_url, person.token)
    echo_url = live_server.ws_url.removesuffix("/ws") + "/echo"
    async with connect(echo_url, open_timeout=10) as echo:
        for message in ("hello", b"\x00binary\xff", "x" * 5000):
            await echo.send(message)
            assert await asyncio.wait_for(echo.recv(), 5) == message
            # /ws on the same app, at the same time, still answers on its own path.
            assert (await ours.request(type="PING", ref="p"))["ref"] == "p"
        pong = await echo.ping(b"alive?")
        await asyncio.wait_for(pong, 5)
    await ours.close()


def test_the_internals_the_inbox_patches_are_in_place() -> None:
    found = internals.problems()
    assert found == [], internals.message(found)


def test_the_app_refuses_to_start_when_a_patched_internal_moved(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a Sanic upgrade that renamed the parameters of async_data_received would."""

    async def moved(self: Any, data: Any, events: Any) -> None:
        raise AssertionError("never called")

    monkeypatch.setattr(WebsocketImplProtocol, "async_data_received", moved)
    with pytest.raises(internals.InternalsMoved) as info:
        create_app(settings)
    text = str(info.value)
    assert "async_data_received" in text
    assert "websockets 1" in text and "sanic 25." in text
