"""Presence: distinct viewers per room, across every process.

A room is a poll's or a session's (`Place`): a session's members are counted once
for the session, whichever poll it shows. Each process counts its own sockets per
(place, user) and tells Redis only when a user appears in or disappears from this
process; a heartbeat refreshes this
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

# ("p", poll id) or ("s", session id): the hash tag of the place's keys.
Place = tuple[str, int]


def poll_place(poll_id: int) -> Place:
    return ("p", poll_id)


def session_place(session_id: int) -> Place:
    return ("s", session_id)


def channel_of(redis: Redis, place: Place) -> str:
    """The place's pub/sub channel: its tallies and changes, and its PRESENCE."""
    kind, id_ = place
    return keys.session_channel(redis, id_) if kind == "s" else keys.channel(redis, id_)


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Presence:
    def __init__(self, redis: Redis, batch: RedisBatch, ttl_s: int) -> None:
        self._redis = redis
        self._batch = batch
        self._ttl_ms = ttl_s * 1000
        self.process = process_id()
        self._local: dict[Place, Counter[int]] = {}

    def _member(self, user_id: int) -> str:
        return f"{user_id}|{self.process}"

    async def _run(self, op: str, place: Place, user_ids: list[int]) -> int:
        kind, id_ = place
        if kind == "s":
            keys_ = [keys.session_presence(id_), keys.session_presence_users(id_)]
            member = f'"session_id":{id_}'
        else:
            keys_ = [keys.presence(id_), keys.presence_users(id_)]
            member = f'"poll_id":{id_}'
        channel = channel_of(self._redis, place)
        args = [op, self._ttl_ms, channel, member, *(self._member(u) for u in user_ids)]
        return int(await self._batch.run_script(PRESENCE, keys_, args))

    async def join(self, place: Place, user_id: int) -> int:
        """Count a socket of `user_id` in the room; returns the room's viewers."""
        local = self._local.setdefault(place, Counter())
        local[user_id] += 1
        return await self._run("join", place, [user_id])

    async def count(self, place: Place) -> int:
        """The room's viewers, counting nobody in (a projector socket is no viewer)."""
        return await self._run("refresh", place, [])

    async def leave(self, place: Place, user_id: int) -> None:
        local = self._local.get(place)
        if local is None or local[user_id] <= 0:
            return
        local[user_id] -= 1
        if local[user_id] > 0:
            return
        del local[user_id]
        if not local:
            del self._local[place]
        await self._run("leave", place, [user_id])

    async def heartbeat(self) -> None:
        """Refresh this process's entries (and expire dead processes' ones)."""
        for place, users in list(self._local.items()):
            await self._run("refresh", place, list(users))

    async def leave_all(self) -> None:
        for place, users in list(self._local.items()):
            await self._run("leave", place, list(users))
        self._local.clear()
