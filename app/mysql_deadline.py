"""The MySQL client of the web processes: every use of a connection has a deadline.

aiomysql bounds only the TCP connect (`connect_timeout`); the server's handshake and
every query wait forever for bytes. A MariaDB that is stopped (SIGSTOP), overloaded
or behind a path that drops packets then hangs each request that touches it, and the
pool's lock hangs every request behind the first. Here a connection must be acquired
(pool creation, a new connection's handshake, waiting for a free one) within
`deadline_s`, and is given `deadline_s` from its acquisition to its release: past
that, its reader is failed the way Tortoise expires connections itself
(`_expire_connections`), so aiomysql closes the connection and raises its own
"Lost connection" error instead of returning a half-read connection to the pool.

An acquisition that misses its deadline is cancelled: aiomysql then drops the
half-made connection (closed, with a ResourceWarning, when collected), and the pool's
lock is free for the next attempt, so the service recovers as soon as the database
answers again. Both failures surface as Tortoise errors that `app.db.is_outage`
recognises, and the HTTP layer answers them 503 `unavailable`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiomysql import Connection, Pool  # type: ignore[import-untyped]
from tortoise.backends.mysql.client import MySQLClient
from tortoise.exceptions import DBConnectionError


class DeadlineExceeded(TimeoutError):
    """A connection was held past its deadline; aiomysql reports it as a lost connection."""


class DeadlinePool:
    """An aiomysql pool whose acquisitions and connection uses are bounded in time.

    Only `acquire` and `release` change; everything else (close, `_free`, ...) is the
    wrapped pool's, which is all Tortoise touches."""

    def __init__(self, pool: Pool, deadline_s: float) -> None:
        self._pool = pool
        self._deadline_s = deadline_s
        self._timers: dict[Connection, asyncio.TimerHandle] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    async def acquire(self) -> Connection:
        try:
            async with asyncio.timeout(self._deadline_s):
                conn: Connection = await self._pool.acquire()
        except TimeoutError:
            raise DBConnectionError(
                f"no database connection within {self._deadline_s:g} s"
            ) from None
        loop = asyncio.get_running_loop()
        self._timers[conn] = loop.call_later(self._deadline_s, self._expire, conn)
        return conn

    def release(self, conn: Connection) -> asyncio.Future[None]:
        timer = self._timers.pop(conn, None)
        if timer is not None:
            timer.cancel()
        released: asyncio.Future[None] = self._pool.release(conn)
        return released

    def _expire(self, conn: Connection) -> None:
        # A query waiting on the reader fails now; an idle held connection fails its
        # next read, and the pool discards it on release (it checks the reader).
        reader = conn._reader
        if reader is not None and reader.exception() is None:
            reader.set_exception(DeadlineExceeded(f"no reply within {self._deadline_s:g} s"))


class DeadlineMySQLClient(MySQLClient):
    """Tortoise's MySQL client over a `DeadlinePool` (credentials: `deadline_s`)."""

    def __init__(self, *, deadline_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline_s = float(deadline_s)

    async def create_connection(self, with_db: bool) -> None:
        try:
            async with asyncio.timeout(self.deadline_s):
                await super().create_connection(with_db)
        except TimeoutError:
            raise DBConnectionError(
                f"no database connection within {self.deadline_s:g} s"
            ) from None
        finally:
            pool = self._pool
            if pool is not None and not isinstance(pool, DeadlinePool):
                self._pool = DeadlinePool(pool, self.deadline_s)


# The engine module's client, as Tortoise looks it up ("engine": "app.mysql_deadline").
client_class = DeadlineMySQLClient
