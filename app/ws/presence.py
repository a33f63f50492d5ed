"""Presence: distinct viewers per room, across every process.

Each process counts its own sockets per (room, user) and tells Redis only when a
user appears in or disappears from this process; a heartbeat refreshes this
process's entries, so the entries of a process that died expire after
`presence_ttl_s` and the next script run on that room removes them.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections import Counter

from redis.asyncio import Redis

from app import keys
from app.redis_batch import RedisBatch
from app.scripts import Script

PRESENCE = Script("presence")


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Presence:
    def __init__(self, redis: Redis, batch: RedisBatch, ttl_s: int) -> None:
        self._redis = redis
        self._batch = batch
        self._ttl_ms = ttl_s * 1000
        self.process = process_id()
        self._local: dict[int, Counter[int]] = {}

    def _member(self, user_id: int) -> str:
        return f"{user_id}|{self.process}"

    async def _run(self, op: str, poll_id: int, user_ids: list[int]) -> int:
        keys_ = [keys.presence(poll_id), keys.presence_users(poll_id)]
        args = [op, self._ttl_ms, keys.channel(self._redis, poll_id), poll_id]
        args += [self._member(u) for u in user_ids]
        return int(await self._batch.run_script(PRESENCE, keys_, args))

    async def join(self, poll_id: int, user_id: int) -> int:
        """Count a socket of `user_id` in the room; returns the room's viewers."""
        local = self._local.setdefault(poll_id, Counter())
        local[user_id] += 1
        return await self._run("join", poll_id, [user_id])

    async def count(self, poll_id: int) -> int:
        """The room's viewers, counting nobody in (a projector socket is no viewer)."""
        return await self._run("refresh", poll_id, [])

    async def leave(self, poll_id: int, user_id: int) -> None:
        local = self._local.get(poll_id)
        if local is None or local[user_id] <= 0:
            return
        local[user_id] -= 1
        if local[user_id] > 0:
            return
        del local[user_id]
        if not local:
            del self._local[poll_id]
        await self._run("leave", poll_id, [user_id])

    async def heartbeat(self) -> None:
        """Refresh this process's entries (and expire dead processes' ones)."""
        for poll_id, users in list(self._local.items()):
            await self._run("refresh", poll_id, list(users))

    async def leave_all(self) -> None:
        for poll_id, users in list(self._local.items()):
            await self._run("leave", poll_id, list(users))
        self._local.clear()
