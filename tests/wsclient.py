"""A small WebSocket test client speaking PROTOCOL.md over a real socket."""

from __future__ import annotations

import asyncio
import json
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
