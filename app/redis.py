"""Redis clients for a process: one for commands, pub/sub connections made from it."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from app.config import Settings
from app.embedded import start_redis
from app.redis_batch import RedisBatch


class RedisHandle:
    """The process's Redis client, its per-tick batch of hot-path commands and, in
    embedded mode, the server it keeps alive."""

    def __init__(
        self, client: Redis, url: str, *, reply_timeout_s: float, server: Any = None
    ) -> None:
        self.client = client
        self.batch = RedisBatch(client, reply_timeout_s=reply_timeout_s)
        self.url = url
        self._server = server

    async def close(self) -> None:
        await self.batch.aclose()
        await self.client.aclose()


def redis_client(url: str, **kwargs: Any) -> Redis:
    client: Redis = Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        **kwargs,
    )
    return client


def open_redis(settings: Settings) -> RedisHandle:
    server = None
    url = settings.redis_url
    if settings.embedded_redis:
        server, url = start_redis(settings.data_dir)
    return RedisHandle(
        redis_client(url), url, reply_timeout_s=settings.redis_reply_timeout_s, server=server
    )
