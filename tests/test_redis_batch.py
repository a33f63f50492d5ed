"""The per-tick command batch (app/redis_batch.py) against a real Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.embedded import start_redis
from app.redis import redis_client
from app.redis_batch import SERVER_RUN, RedisBatch, pack
from app.scripts import SNAPSHOT
from tests.conftest import AofRedis, free_port
from tests.sync_redis import SyncRedis


def _script_loads(redis: SyncRedis) -> int:
    stats = redis.info("commandstats")
    return sum(
        int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_script|load", "cmdstat_script")
    )


async def test_one_write_answers_each_caller_and_an_error_fails_only_its_own(
    redis_url: str, redis: SyncRedis
) -> None:
    client = redis_client(redis_url)
    batch = RedisBatch(client, reply_timeout_s=10)
    redis.set("rb:text", "not a number")
    try:
        calls = [batch.execute("INCR", f"rb:n{i % 5}") for i in range(50)]
        calls.insert(17, batch.execute("INCR", "rb:text"))
        replies = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(replies[17], ResponseError)
        counts = [r for i, r in enumerate(replies) if i != 17]
        # Each caller got its own reply, in order: the i-th INCR of a key returns i.
        assert [c for i, c in enumerate(counts) if i % 5 == 0] == list(range(1, 11))
        assert redis.get("rb:n4") == "10"
    finally:
        await batch.aclose()
        await client.aclose()


async def test_a_forgotten_script_is_loaded_once_for_the_whole_batch(
    redis_url: str, redis: SyncRedis
) -> None:
    client = redis_client(redis_url)
    batch = RedisBatch(client, reply_timeout_s=10)
    try:
        redis.script_flush()
        before = _script_loads(redis)
        keys = ["rb:meta", "rb:voters", "rb:counts", "rb:seq"]
        redis.hset("rb:meta", mapping={"status": "open", "run": redis.info("server")["run_id"]})
        redis.hset("rb:voters", mapping={"7": "1,3", "8": "2"})
        redis.hset("rb:counts", mapping={"1": 1, "2": 1, "3": 1})
        redis.set("rb:seq", 2)
        replies = await asyncio.gather(
            *(batch.run_script(SNAPSHOT, keys, [str(7 + i % 3), SERVER_RUN]) for i in range(30))
        )
        assert _script_loads(redis) - before == 1
        assert {tuple(r[:4]) for r in replies} == {(2, 2, 1, "1,3"), (2, 2, 1, "2"), (2, 2, 1, "")}
    finally:
        await batch.aclose()
        await client.aclose()


async def test_a_dead_connection_fails_every_caller_of_the_batch() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    batch = RedisBatch(client, reply_timeout_s=10)
    try:
        replies = await asyncio.wait_for(
            asyncio.gather(*(batch.execute("PING") for _ in range(10)), return_exceptions=True),
            10,
        )
        assert all(isinstance(r, RedisConnectionError) for r in replies), replies
        with pytest.raises(RedisConnectionError):
            await batch.execute("PING")
    finally:
        await batch.aclose()
        await client.aclose()


async def test_batches_pipeline_on_one_connection_and_replies_keep_their_order(
    redis_url: str, redis: SyncRedis
) -> None:
    """Commands issued over many ticks, none awaited before the next: each batch goes
    out while earlier ones wait for replies, and every caller gets its own."""
    client = redis_client(redis_url)
    batch = RedisBatch(client, reply_timeout_s=10)
    clients_before = len(redis.client_list())
    try:
        calls = []
        for _ in range(200):
            calls.append(batch.execute("INCR", "rb:order"))
            await asyncio.sleep(0)
        assert await asyncio.gather(*calls) == list(range(1, 201))
        assert len(redis.client_list()) == clients_before + 1
    finally:
        await batch.aclose()
        await client.aclose()
    # Redis handles a closed socket on its next loop turn, maybe after our CLIENT LIST.
    for _ in range(100):
        if len(redis.client_list()) == clients_before:
            break
        await asyncio.sleep(0.02)
    assert len(redis.client_list()) == clients_before


async def test_a_connection_redis_closes_is_replaced_before_the_next_batch(
    redis_url: str, redis: SyncRedis
) -> None:
    client = redis_client(redis_url)
    batch = RedisBatch(client, reply_timeout_s=10)
    try:
        await batch.execute("CLIENT", "SETNAME", "rb-victim")
        assert await batch.execute("PING") == "PONG"
        victim = [c for c in redis.client_list() if c["name"] == "rb-victim"]
        assert len(victim) == 1
        redis.client_kill_filter(_id=victim[0]["id"])
        # The batch's reader sees the close as it happens, not on the next write.
        for _ in range(100):
            if not [c for c in redis.client_list() if c["name"] == "rb-victim"]:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        after = asyncio.gather(*(batch.execute("INCR", "rb:after") for _ in range(5)))
        assert await asyncio.wait_for(after, 10) == [1, 2, 3, 4, 5]
    finally:
        await batch.aclose()
        await client.aclose()


async def test_a_killed_connection_fails_only_the_callers_waiting_on_it(
    redis_url: str, redis: SyncRedis
) -> None:
    """A caller whose command was sent on a connection that dies gets an error, never
    a hang or someone else's reply; commands issued afterwards succeed."""
    client = redis_client(redis_url)
    batch = RedisBatch(client, reply_timeout_s=10)
    try:
        await batch.execute("CLIENT", "SETNAME", "rb-blocked")
        blocked = batch.execute("BLPOP", "rb:never", 30)
        queued = batch.execute("PING")  # pipelined behind the BLPOP
        await asyncio.sleep(0.1)
        victim = [c for c in redis.client_list() if c["name"] == "rb-blocked"]
        redis.client_kill_filter(_id=victim[0]["id"])
        replies = await asyncio.wait_for(
            asyncio.gather(blocked, queued, return_exceptions=True), 10
        )
        assert all(isinstance(r, RedisConnectionError) for r in replies), replies
        assert await batch.execute("PING") == "PONG"
    finally:
        await batch.aclose()
        await client.aclose()


async def test_a_redis_that_stops_answering_fails_its_callers_instead_of_hanging(
    tmp_path: Path,
) -> None:
    """A stopped Redis (SIGSTOP) keeps the connection open and never replies: the
    callers get an error once the oldest waited the reply timeout, a new connection's
    handshake is given up on as well, and the batch works again once Redis does."""
    server, url = start_redis(tmp_path)
    client = redis_client(url)
    batch = RedisBatch(client, reply_timeout_s=0.5)
    try:
        assert await batch.execute("PING") == "PONG"
        os.kill(server.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            calls = asyncio.gather(
                *(batch.execute("INCR", "rb:hung") for _ in range(3)), return_exceptions=True
            )
            replies = await asyncio.wait_for(calls, 10)
            assert all(isinstance(r, RedisTimeoutError) for r in replies), replies
            assert time.monotonic() - started >= 0.5
            with pytest.raises(RedisTimeoutError, match="connection"):
                await asyncio.wait_for(batch.execute("PING"), 10)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        assert await asyncio.wait_for(batch.execute("PING"), 10) == "PONG"
        await asyncio.wait_for(batch.aclose(), 10)
    finally:
        await batch.aclose()
        await client.aclose()
        server.shutdown()


def test_pack_matches_redis_py_for_what_the_hot_path_sends() -> None:
    commands = [
        ("EVALSHA", "0" * 40, 5, "{p:7}:meta", "{p:7}:voters", "12", "0", "1,2", 7),
        ("PING",),
        ("SET", "k", b"\x00\xff\r\n", "é"),
    ]
    assert pack(commands) == b"".join(Connection().pack_commands(commands))


async def test_server_run_is_the_run_id_of_the_server_the_command_reaches(
    aof_redis: AofRedis, tmp_path: Path
) -> None:
    """Filled in when the command is written, on the connection it is written to: after
    a restart, the new server's run id, never the one the process knew before."""
    client = redis_client(aof_redis.url)
    batch = RedisBatch(client, reply_timeout_s=10)
    try:
        with aof_redis.client() as direct:
            before = direct.info("server")["run_id"]
        assert await batch.execute("ECHO", SERVER_RUN) == before
        aof_redis.copy_aof(tmp_path / "copy")
        aof_redis.restart_from(tmp_path / "copy")
        with aof_redis.client() as direct:
            after = direct.info("server")["run_id"]
        assert after != before
        for _ in range(3):  # the first may meet the dead connection
            try:
                assert await batch.execute("ECHO", SERVER_RUN) == after
                break
            except RedisConnectionError:
                continue
        else:
            raise AssertionError("no reply from the restarted server")
    finally:
        await batch.aclose()
        await client.aclose()
