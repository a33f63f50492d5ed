"""Lua scripts run by EVALSHA, reloaded transparently after a Redis restart.

Redis empties its script cache on restart, so every call site must survive
NOSCRIPT: `Script.run` reloads and retries once; pipelined callers (the vote
batcher) check `is_noscript` per result and do the same.
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


class Script:
    def __init__(self, name: str) -> None:
        self.name = name
        self.source = resources.files("app.lua").joinpath(f"{name}.lua").read_text()

        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def load(self, redis: Redis) -> None:
        await redis.script_load(self.source)

    async def run(self, redis: Redis, keys: list[str], args: list[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]
        except NoScriptError:
            await self.load(redis)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)  # type: ignore[misc]


VOTE = Script("vote")
CLOSE = Script("close")
RECOUNT = Script("recount")
SNAPSHOT = Script("snapshot")
ACK = Script("ack")
VERIFY = Script("verify")
COUNTDOWN = Script("countdown")
REOPEN = Script("reopen")
RETIRE = Script("retire")
