"""Hot-path Redis commands: one write per event-loop tick, on one pipelined connection.

A vote, a JOIN snapshot and a presence change each need one Redis reply. Awaited one
by one through redis-py, every command takes a pooled connection under the pool's
asyncio.Lock and pays its own write syscall; in a reconnect storm thousands of
handshakes queue on that lock, and asyncio.Lock's wake-up scan over its waiters
made the queue quadratic (a fifth of a web worker's CPU in the storm profile).
Here every command issued during one loop tick joins a batch that goes out as a
single write; replies are read in order and handed back to their callers. redis-py's
Pipeline does the same with a command stack and retry wrapper that cost a fifth of a
web worker's CPU at 8k votes/s, hence its bare connection primitives.

The batches share one connection of their own, written by one task and read by
another, so a batch goes out while earlier ones still wait for replies. Taking a
pooled connection per batch instead cost a task and the pool's health check each
time: `can_read_destructive` arms a zero timeout and cancels a read, about a tenth
of a web worker's CPU at 8k votes/s. A single connection also keeps every caller's
replies in the order it issued the commands, across batches. The reader always
waits on the socket, so a connection that Redis closes is noticed when it happens
and the next batch opens a new one.

A Redis that stops answering without closing the connection (stopped, swapped out, a
network path that drops packets) would leave every caller waiting forever, and a
stopping process with them; so when the oldest command has waited `reply_timeout_s`
without a reply, the connection counts as broken. One timer per connection watches
the head of its queue, so a reply costs nothing extra.

A Redis restarted from an older append-only file cannot tell by its data that it lost
acks (the data rolled back with everything else), but every server process has its own
random `run_id`. A connection is to one server process, so the run id learnt when it
connects (`INFO server`) is the one every command on it runs under. A command whose
last argument is `SERVER_RUN` gets that run id in its place as it is written: the vote
script compares it with the run stamped on the poll's state when the state was last
checked against the database (app/polls/state.py), without a round trip of its own.
It is filled in at write time, not when the command is issued, because a command
issued before a restart may be sent on the connection made after it.

Replies are raw (no redis-py response callbacks): callers of `execute` parse what
they asked for. An error reply fails only its own caller; a broken connection fails
every caller still waiting on it. `run_script` reloads a script that Redis forgot
(restart, SCRIPT FLUSH) once per batch of callers and retries.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any

from hiredis import pack_command
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.scripts import Script, is_noscript

_Call = tuple[tuple[Any, ...], asyncio.Future[Any]]


class _ServerRun:
    """The placeholder for the run id of the server a command is sent to."""

    def __repr__(self) -> str:
        return "SERVER_RUN"


SERVER_RUN: Any = _ServerRun()


class _Link:
    """One connection and the callers waiting, in order, for its replies."""

    def __init__(self, conn: AbstractConnection, reply_timeout_s: float, run_id: str) -> None:
        self.conn = conn
        self.run_id = run_id  # of the server process this connection is to
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.reader: asyncio.Task[None] | None = None
        self.closing: asyncio.Task[None] | None = None
        self.dead = False
        self._reply_timeout_s = reply_timeout_s
        self._watch: asyncio.TimerHandle | None = None
        self._watched: asyncio.Future[Any] | None = None

    def expect(self, futures: list[asyncio.Future[Any]]) -> None:
        """Queue the callers of a batch about to be sent, in send order."""
        self.waiting.extend(futures)
        if self._watch is None and self.waiting:
            self._arm()

    def _arm(self) -> None:
        self._watched = self.waiting[0]
        self._watch = asyncio.get_running_loop().call_later(self._reply_timeout_s, self._check)

    def _check(self) -> None:
        """The head still the one seen a period ago: it waited at least that long (a
        stuck command is noticed within one to two periods)."""
        self._watch = None
        if self.dead or not self.waiting:
            return
        if self.waiting[0] is self._watched:
            self.fail(RedisTimeoutError(f"Redis sent no reply for {self._reply_timeout_s:g} s"))
        else:
            self._arm()

    def fail(self, exc: BaseException) -> None:
        """Fail every caller still waiting and close the connection (once)."""
        if self.dead:
            return
        self.dead = True
        if self._watch is not None:
            self._watch.cancel()
        if not isinstance(exc, Exception):
            exc = RedisConnectionError("the Redis connection was closed")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(exc)
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
        self.closing = asyncio.get_running_loop().create_task(self.conn.disconnect(nowait=True))

    async def close(self) -> None:
        """`fail`, then wait until the reader stopped and the connection is closed."""
        self.fail(RedisConnectionError("the Redis batch is closed"))
        for task in (self.reader, self.closing):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def read(self) -> None:
        try:
            while True:
                try:
                    reply = await self.conn.read_response()
                except ResponseError as exc:
                    reply = exc
                if not self.waiting:
                    raise RedisConnectionError("Redis sent a reply nobody asked for")
                future = self.waiting.popleft()
                if future.done():  # its caller was cancelled
                    continue
                if isinstance(reply, ResponseError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except BaseException as exc:
            self.fail(exc)
            if not isinstance(exc, Exception):
                raise


class RedisBatch:
    def __init__(self, redis: Redis, *, reply_timeout_s: float) -> None:
        """`reply_timeout_s` must exceed the longest BLOCK of any command sent here."""
        self._redis = redis
        self._reply_timeout_s = reply_timeout_s
        self._pending: list[_Call] = []  # issued since the writer last took them
        self._in_hand: list[_Call] = []  # taken, waiting for a connection
        self._writer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._link: _Link | None = None
        self._loading: dict[str, asyncio.Future[None]] = {}
        self._closed = False

    def execute(self, *args: Any) -> asyncio.Future[Any]:
        """Queue one command for this tick's write; the future gets its raw reply."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self._closed:
            future.set_exception(RedisConnectionError("the Redis batch is closed"))
            return future
        self._pending.append((args, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name="redis-batch-writer")
        elif self._wakeup is not None and not self._wakeup.done():
            # The writer runs in the next loop iteration, after every callback that is
            # ready now: what they issue joins the same write.
            self._wakeup.set_result(None)
        return future

    def evalsha(self, script: Script, keys: list[str], args: list[Any]) -> asyncio.Future[Any]:
        """The script as one command of this tick's write; NOSCRIPT is the caller's."""
        return self.execute("EVALSHA", script.sha, len(keys), *keys, *args)

    async def run_script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.evalsha(script, keys, args)
        except ResponseError as exc:
            if not is_noscript(exc):
                raise
        await self._load(script)
        return await self.evalsha(script, keys, args)

    async def _load(self, script: Script) -> None:
        """SCRIPT LOAD once for every caller that met the same NOSCRIPT."""
        loading = self._loading.get(script.sha)
        if loading is None:
            loading = asyncio.ensure_future(script.load(self._redis))
            self._loading[script.sha] = loading
            loading.add_done_callback(lambda _: self._loading.pop(script.sha, None))
        await asyncio.shield(loading)

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                self._wakeup = loop.create_future()
                await self._wakeup
                continue
            self._in_hand, self._pending = self._pending, []
            try:
                link = await self._connected()
            except Exception as exc:
                _fail(self._in_hand, exc)
                self._in_hand = []
                continue
            batch, self._in_hand = self._in_hand, []
            link.expect([future for _, future in batch])
            try:
                await link.conn.send_packed_command(
                    pack([args for args, _ in batch], link.run_id), check_health=False
                )
            except BaseException as exc:
                link.fail(exc)
                if not isinstance(exc, Exception):
                    raise

    async def _connected(self) -> _Link:
        link = self._link
        if link is None or link.dead:
            conn: AbstractConnection = self._redis.connection_pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                # A stuck Redis accepts the TCP connection and never answers the handshake.
                run_id = await asyncio.wait_for(_connect(conn), self._reply_timeout_s)
            except TimeoutError:
                await conn.disconnect(nowait=True)
                raise RedisTimeoutError(
                    f"Redis did not answer the connection for {self._reply_timeout_s:g} s"
                ) from None
            except BaseException:
                await conn.disconnect(nowait=True)
                raise
            link = self._link = _Link(conn, self._reply_timeout_s, run_id)
            link.reader = asyncio.get_running_loop().create_task(
                link.read(), name="redis-batch-reader"
            )
        return link

    async def drain(self) -> None:
        """Wait for every command issued so far, so a stopping process answers what it
        accepted (within the reply timeout, should Redis hang)."""
        waiting = list(self._link.waiting) if self._link is not None else []
        outstanding = [future for _, future in self._pending + self._in_hand] + waiting
        if outstanding:
            await asyncio.gather(*outstanding, return_exceptions=True)

    async def aclose(self) -> None:
        """Drain, then stop the writer and close the connection."""
        await self.drain()
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        _fail(self._pending + self._in_hand, RedisConnectionError("the Redis batch is closed"))
        if self._link is not None:
            await self._link.close()


async def _connect(conn: AbstractConnection) -> str:
    """Connect; the run id of the server process at the other end."""
    await conn.connect()  # type: ignore[no-untyped-call]
    await conn.send_command("INFO", "server", check_health=False)
    return server_run_id(await conn.read_response())


def server_run_id(info: Any) -> str:
    """The `run_id` of raw `INFO server` text."""
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        if line.startswith("run_id:"):
            return line[len("run_id:") :].strip()
    raise RedisConnectionError("INFO server named no run_id")


def pack(commands: list[tuple[Any, ...]], run_id: str = "") -> bytes:
    """RESP arrays of bulk strings, packed by hiredis in C: redis-py's own packer costs
    ~1 µs per argument in Python, about six times as much for a vote's EVALSHA.
    A trailing `SERVER_RUN` becomes `run_id`."""
    return b"".join(
        [
            pack_command(args) if args[-1] is not SERVER_RUN else pack_command((*args[:-1], run_id))
            for args in commands
        ]
    )


def _fail(batch: list[_Call], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
