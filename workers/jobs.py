"""arq jobs. Each is idempotent: arq may run a job again after a worker dies, a
duplicate `_job_id` is dropped, and cron runs are unique per run time.

`ctx` (filled by workers.runtime.start): `settings`, `redis_handle` (our decoding
Redis client), `consumer` (this process's outbox consumer name); arq's own pool is
`ctx["redis"]`.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.worker import Retry

from app import sessions
from app.errors import ApiError
from app.polls.service import close_due, close_poll
from models import Poll, PollStatus
from workers.finalize import finalize_poll as finalize
from workers.guests import sweep_guests
from workers.reconcile import reconcile

log = logging.getLogger("livepolls.jobs")

FINALIZE_RETRY_S = 5


async def close_poll_at(ctx: dict[str, Any], poll_id: int) -> str:
    """Close a poll whose `closes_at` has come. Votes were already refused from that
    instant by the vote script; this makes the close official, notifies rooms and
    asks for the poll's finalization. A countdown may have moved `closes_at` since the
    job was queued: a job whose instant is no longer the poll's leaves the close to the
    one queued for the new instant (and to the reconciler)."""
    poll = await Poll.get_or_none(id=poll_id)
    if poll is not None and poll.status == PollStatus.OPEN and not close_due(poll):
        return "not_due"
    try:
        await close_poll(
            redis=ctx["redis_handle"].client, poll_id=poll_id, principal=None, arq=ctx["redis"]
        )
    except ApiError as exc:  # deleted, or still a draft: nothing to close
        return exc.code
    return "closed"


async def finalize_poll(ctx: dict[str, Any], poll_id: int) -> str:
    """Drain a closed poll's outbox and store its final counts; retried while the
    database is unavailable (the reconciler asks again should the retries run out)."""
    try:
        outcome = await finalize(
            redis=ctx["redis_handle"].client,
            poll_id=poll_id,
            consumer=f"{ctx['consumer']}-finalize",
            settings=ctx["settings"],
        )
    except Exception as exc:
        log.warning("finalizing poll %d failed (%s); retrying", poll_id, exc)
        raise Retry(defer=FINALIZE_RETRY_S) from exc
    if outcome == "pending":
        raise Retry(defer=FINALIZE_RETRY_S)
    return outcome


async def reconcile_polls(ctx: dict[str, Any]) -> dict[str, Any]:
    """The periodic reconcile pass (workers/reconcile.py); failures wait for the next run."""
    try:
        report = await reconcile(
            redis=ctx["redis_handle"].client,
            arq=ctx["redis"],
            recount_every_s=ctx["settings"].recount_interval_s,
        )
    except Exception as exc:
        log.warning("reconcile pass failed: %s: %s", type(exc).__name__, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    summary = report.summary()
    # Every few seconds on every deployment: a line only when the pass did something.
    if report.changed:
        fields = {k: v for k, v in summary.items() if v}
        log.info("reconcile pass changed %s", report.describe(), extra=fields)
    else:
        log.debug("reconcile pass: nothing to do", extra=summary)
    return summary


async def purge_sessions(ctx: dict[str, Any]) -> int:
    """Expired refresh tokens are refused anyway: drop their rows (hourly)."""
    return await sessions.purge_expired()


async def sweep_unused_guests(ctx: dict[str, Any]) -> int:
    """The guest sweep (workers/guests.py); failures wait for the next run."""
    try:
        return await sweep_guests(retention_s=ctx["settings"].guest_retention_s)
    except Exception as exc:
        log.warning("guest sweep failed: %s: %s", type(exc).__name__, exc)
        return 0
