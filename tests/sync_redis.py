"""What the tests' synchronous Redis client returns, for the type checker.

redis-py types every command for its sync and asyncio clients at once, as
`Awaitable[T] | T` (or `Awaitable[Any] | Any`), so what the sync client returns can be
neither used nor compared without help. The tests' clients are `redis.Redis` made with
`decode_responses=True`; `SyncRedis` is that class to the type checker, with the
commands the tests read typed as what they return then (strings, not bytes; DUMP is
never decoded). At run time it is `redis.Redis` itself: `as_sync` changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import redis as redis_sync

if TYPE_CHECKING:
    from redis.client import PubSub
    from redis.typing import (
        ChannelT,
        ConsumerT,
        EncodableT,
        GroupT,
        KeyT,
        PatternT,
        StreamIdT,
    )

    # A stream entry as XRANGE, XREADGROUP and XAUTOCLAIM return it: (id, fields). The
    # replies are lists at run time; the tuples here give their shape.
    StreamEntry = tuple[str, dict[str, str]]

    class SyncRedis(redis_sync.Redis):
        def get(self, name: KeyT) -> str | None: ...
        def keys(self, pattern: PatternT = "*", **kwargs: Any) -> list[str]: ...
        def ttl(self, name: KeyT) -> int: ...
        def pttl(self, name: KeyT) -> int: ...
        def dump(self, name: KeyT) -> bytes | None: ...
        def restore(
            self,
            name: KeyT,
            ttl: float,
            value: EncodableT | None,
            replace: bool = False,
            absttl: bool = False,
            idletime: int | None = None,
            frequency: int | None = None,
        ) -> bool: ...
        def smembers(self, name: str) -> set[str]: ...
        def zcard(self, name: KeyT) -> int: ...
        def hget(self, name: str, key: str) -> str | None: ...
        def hgetall(self, name: str) -> dict[str, str]: ...
        # HSET takes any encodable value, as every other write does.
        def hset(
            self,
            name: str,
            key: str | None = None,
            value: EncodableT | None = None,
            mapping: dict[Any, Any] | None = None,
            items: list[Any] | None = None,
        ) -> int: ...
        def info(
            self, section: str | None = None, *args: list[str], **kwargs: Any
        ) -> dict[str, Any]: ...
        def client_list(
            self,
            _type: str | None = None,
            client_id: list[EncodableT] = [],  # noqa: B006 (redis-py's own default)
            **kwargs: Any,
        ) -> list[dict[str, str]]: ...
        def pubsub_numsub(self, *args: ChannelT, **kwargs: Any) -> list[tuple[str, int]]: ...
        def pubsub(self, **kwargs: Any) -> PubSub: ...
        def xlen(self, name: KeyT) -> int: ...
        def xrange(
            self,
            name: KeyT,
            min: StreamIdT = "-",
            max: StreamIdT = "+",
            count: int | None = None,
        ) -> list[StreamEntry]: ...
        def xreadgroup(
            self,
            groupname: str,
            consumername: str,
            streams: dict[KeyT, StreamIdT],
            count: int | None = None,
            block: int | None = None,
            noack: bool = False,
        ) -> list[tuple[str, list[StreamEntry]]]: ...
        def xautoclaim(
            self,
            name: KeyT,
            groupname: GroupT,
            consumername: ConsumerT,
            min_idle_time: int,
            start_id: StreamIdT = "0-0",
            count: int | None = None,
            justid: bool = False,
        ) -> (  # Redis 7 adds the ids of deleted entries
            tuple[str, list[StreamEntry]] | tuple[str, list[StreamEntry], list[str]]
        ): ...
        def xpending(self, name: KeyT, groupname: GroupT) -> dict[str, Any]: ...
        def xpending_range(
            self,
            name: KeyT,
            groupname: GroupT,
            min: StreamIdT,
            max: StreamIdT,
            count: int,
            consumername: ConsumerT | None = None,
            idle: int | None = None,
        ) -> list[dict[str, Any]]: ...

else:
    SyncRedis = redis_sync.Redis


def as_sync(client: redis_sync.Redis) -> SyncRedis:
    """`client`, which must have been made with `decode_responses=True`."""
    assert client.get_encoder().decode_responses
    return cast("SyncRedis", client)
