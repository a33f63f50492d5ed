"""Hot-path Redis commands, sent as one write per event-loop tick.

A vote, a JOIN snapshot and a presence change each need one Redis reply. Awaited one
by one through redis-py, every command takes a pooled connection under the pool's
asyncio.Lock and pays its own write syscall; in a reconnect storm thousands of
handshakes queue on that lock, and asyncio.Lock's wake-up scan over its waiters
made the queue quadratic (a fifth of a web worker's CPU in the storm profile).
Here every command issued during one loop tick joins a batch that goes out as a
single write on one connection; replies are read in order and handed back to
their callers. redis-py's Pipeline does the same with a command stack and retry
wrapper that cost a fifth of a web worker's CPU at 8k votes/s, hence its bare
connection primitives.

Replies are raw (no redis-py response callbacks): callers of `execute` parse what
they asked for. An error reply fails only its own caller; a connection error fails
the whole batch, as a pipeline would. `run_script` reloads a script that Redis
forgot (restart, SCRIPT FLUSH) once per batch of callers and retries.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hiredis import pack_command
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from app.scripts import Script, is_noscript

_Call = tuple[tuple[Any, ...], asyncio.Future[Any]]


class RedisBatch:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pending: list[_Call] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._loading: dict[str, asyncio.Future[None]] = {}

    def execute(self, *args: Any) -> asyncio.Future[Any]:
        """Queue one command for this tick's write; the future gets its raw reply."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    async def run_script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except ResponseError as exc:
            if not is_noscript(exc):
                raise
        await self._load(script)
        return await self.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    async def _load(self, script: Script) -> None:
        """SCRIPT LOAD once for every caller that met the same NOSCRIPT."""
        loading = self._loading.get(script.sha)
        if loading is None:
            loading = asyncio.ensure_future(script.load(self._redis))
            self._loading[script.sha] = loading
            loading.add_done_callback(lambda _: self._loading.pop(script.sha, None))
        await asyncio.shield(loading)

    def _flush(self) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        pool = self._redis.connection_pool
        try:
            conn = await pool.get_connection()
        except Exception as exc:
            _fail(batch, exc)
            return
        try:
            await conn.send_packed_command(pack([args for args, _ in batch]), check_health=False)
            for _, future in batch:
                try:
                    reply = await conn.read_response()
                except ResponseError as exc:
                    if not future.done():
                        future.set_exception(exc)
                    continue
                if not future.done():
                    future.set_result(reply)
        except BaseException as exc:
            await conn.disconnect()
            _fail(batch, exc if isinstance(exc, Exception) else ConnectionError("cancelled"))
            if not isinstance(exc, Exception):
                raise
        finally:
            await pool.release(conn)

    async def drain(self) -> None:
        """Wait for batches in flight, so a stopping process answers what it accepted."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def pack(commands: list[tuple[Any, ...]]) -> bytes:
    """RESP arrays of bulk strings, packed by hiredis in C: redis-py's own packer costs
    ~1 µs per argument in Python, about six times as much for a vote's EVALSHA."""
    return b"".join([pack_command(args) for args in commands])


def _fail(batch: list[_Call], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
