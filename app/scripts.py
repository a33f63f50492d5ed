"""Lua scripts run by EVALSHA, reloaded transparently after a Redis restart.

Redis empties its script cache on restart, so every call site must survive
NOSCRIPT: `Script.run` reloads and retries once; pipelined callers (the vote
batcher) check `is_noscript` per result and do the same.

The scripts that count ballots (vote, verify, recount) start with app/lua/kinds.lua,
what each kind of poll's ballot means: Redis has no shared code between scripts short
of Functions, and a prelude keeps every script one atomic EVALSHA.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError


def is_noscript(result: object) -> bool:
    return isinstance(result, NoScriptError) or (
        isinstance(result, ResponseError) and str(result).startswith("NOSCRIPT")
    )


def _read(name: str) -> str:
    return resources.files("app.lua").joinpath(f"{name}.lua").read_text()


class Script:
    def __init__(self, name: str, *, counts: bool = False) -> None:
        self.name = name
        self.source = _read(name)
        if counts:
            self.source = _read("kinds") + self.source

        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def load(self, redis: Redis) -> None:
        await redis.script_load(self.source)

    async def run(self, redis: Redis, keys: list[str], args: list[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]
        except NoScriptError:
            await self.load(redis)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]


VOTE = Script("vote", counts=True)
CLOSE = Script("close")
RECOUNT = Script("recount", counts=True)
SNAPSHOT = Script("snapshot")
ACK = Script("ack")
VERIFY = Script("verify", counts=True)
COUNTDOWN = Script("countdown")
REOPEN = Script("reopen")
RETIRE = Script("retire")
