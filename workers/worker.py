"""arq's Worker, made to ride out a Redis restart instead of exiting on it.

arq 0.28 lets any Redis error out of its poll loop: the first ConnectionError after
Redis went away ended the process (0.4 s after a SIGKILL of Redis), and under `make
run` honcho then stopped the web processes too. On SQLite it was worse: `close()`
failed on Redis before the shutdown hook closed the database, and the process hung
at exit on aiosqlite's thread, alive and doing nothing.

Here a Redis failure in the poll loop (reading the queue, starting or finishing a
job, the health key, enqueuing cron runs) is waited out with capped, jittered
backoff (app/outage.py, one log line per outage) and the loop carries on where it
was: a job whose bookkeeping failed is retried by arq after its timeout, a cron tick
missed during the outage runs at the next one. `close()` runs the shutdown hook even
when Redis is gone, so the process always exits when told to.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from arq.worker import Worker
from redis.exceptions import RedisError

from app.outage import Outage

log = logging.getLogger("livepolls.worker")

# What a Redis that went away raises: redis-py's errors, or the socket's own.
REDIS_DOWN = (RedisError, OSError)
CLOSE_TIMEOUT_S = 5.0


class ResilientWorker(Worker):
    def __init__(self, *args: Any, retry_max_s: float = 2.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outage = Outage(log, "the worker's job queue (Redis)", cap_s=retry_max_s)

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as exc:
            await self.outage.wait(exc)
        else:
            self.outage.recovered()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq takes one of `max_jobs` slots per job before its Redis transaction and
        gives it back only on a lost race: a Redis error there would keep the slot
        forever, and a few outages would leave the worker unable to start any job."""
        for job_id in job_ids:
            try:
                await super().start_jobs([job_id])
            except Exception:
                self.job_counter -= 1
                self.sem.release()
                raise

    async def close(self) -> None:
        """arq's close, but a Redis that is gone skips only the health key: the
        shutdown hook (drainer, database, metrics) always runs."""
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        try:
            await asyncio.wait_for(self.pool.delete(self.health_check_key), CLOSE_TIMEOUT_S)
        except (*REDIS_DOWN, TimeoutError) as exc:
            log.warning("Redis unavailable at shutdown (%s: %s)", type(exc).__name__, exc)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        await self.pool.aclose(close_connection_pool=True)
        self._pool = None
