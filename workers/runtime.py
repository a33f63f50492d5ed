"""What every worker process runs: its jobs, its crons, and the outbox drainer.

`workers.settings.WorkerSettings` (the Procfile's `worker`) wires this to settings
read from the environment; the tests' `worker` fixture wires it to the test backends.
The drainer is a task of the process, started in `start` and stopped in `stop`,
not an arq job: one job per vote would cap the write-behind near 2k votes/s.
"""

from __future__ import annotations

from typing import Any

from arq.cron import CronJob, cron
from arq.worker import Function, func

from app.config import Settings
from app.gc_tuning import tune_gc
from app.redis import RedisHandle
from workers.jobs import (
    close_poll_at,
    finalize_poll,
    purge_sessions,
    reconcile_polls,
    sweep_unused_guests,
)
from workers.outbox import OutboxDrainer, consumer_name

FINALIZE_TRIES = 20
# The guest sweep runs at these minutes of every hour.
GUEST_SWEEP_MINUTES = set(range(0, 60, 10))


def functions(settings: Settings) -> list[Function]:
    return [
        func(close_poll_at),
        # keep_result=0: once done, the same job id may be enqueued again.
        func(
            finalize_poll,
            keep_result=0,
            max_tries=FINALIZE_TRIES,
            timeout=settings.finalize_wait_s + 60,
        ),
    ]


def cron_jobs(settings: Settings) -> list[CronJob]:
    """The reconcile pass every `reconcile_interval_s` (a divisor of a minute or of an
    hour works best) and once at start; expired sessions purged hourly, the guest
    sweep every 10 minutes."""
    every = settings.reconcile_interval_s
    if every < 60:
        when: dict[str, Any] = {"second": set(range(0, 60, every))}
    else:
        when = {"minute": set(range(0, 60, max(1, every // 60))), "second": 0}
    return [
        cron(
            reconcile_polls,
            run_at_startup=True,
            unique=True,
            timeout=max(60, every * 4),
            **when,
        ),
        cron(purge_sessions, minute=17, second=0, unique=True, timeout=300),
        cron(
            sweep_unused_guests,
            minute=GUEST_SWEEP_MINUTES,
            second=30,
            unique=True,
            timeout=600,
        ),
    ]


async def start(ctx: dict[str, Any], *, settings: Settings, redis_handle: RedisHandle) -> None:
    """Fill arq's ctx and start the drainer; the database must be open already."""
    ctx["settings"] = settings
    # arq keeps its own pool under ctx["redis"]; ours decodes responses.
    ctx["redis_handle"] = redis_handle
    ctx["consumer"] = consumer_name()
    drainer = OutboxDrainer(redis_handle.client, settings, consumer=ctx["consumer"])
    drainer.start()
    ctx["drainer"] = drainer
    tune_gc(settings)


async def stop(ctx: dict[str, Any]) -> None:
    drainer: OutboxDrainer | None = ctx.pop("drainer", None)
    if drainer is not None:
        await drainer.stop()
