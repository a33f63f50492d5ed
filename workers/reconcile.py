"""Reconciliation: make Redis and the database agree again, whatever was lost.

Run by an arq cron every `reconcile_interval_s` and once when a worker starts. For
every open poll and every closed poll not yet finalized:

- close it if its `closes_at` passed while it is still open (the deferred close job
  was lost), which also asks for its finalization;
- rebuild its Redis state from the database when missing (Redis flushed or restarted
  empty), and make sure it is in `keys.ACTIVE_POLLS` with its consumer group;
- verify its state when it was last checked under another Redis server process
  (restarted, maybe from an older append-only file: `verify.lua` folds back what the
  database holds, app/polls/state.py), so a poll nobody votes on is exact again too;
- put back ballots the database has above Redis' seq even under the same run (nothing
  known loses them so; the same `verify.lua` repairs it), so those voters cannot vote
  twice and seq moves past what clients saw; one query of every poll's newest
  persisted seq finds the polls that need it;
- repair its counts from its voters hash when they disagree (`recount.lua`, atomic):
  checked cheaply every pass, proved by reading every ballot only when that check
  fails or every `recount_interval_s` (a full read holds Redis ~0.3 us a voter);
- ask for the finalization of closed polls (a duplicate job id is dropped);
- drop the Redis state of polls deleted from the database behind its back;
- measure drift: ballots in Redis not yet in the database (the drain backlog) plus
  rows in the database that Redis does not have, exported as the DRIFT gauge.

Every step is idempotent, so several workers reconciling at once are safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis
from tortoise.expressions import Q
from tortoise.functions import Count, Max

from app import keys
from app.errors import ApiError
from app.metrics import DRIFT
from app.polls.service import close_poll, enqueue_finalize
from app.polls.state import (
    drop_state,
    ensure_outbox_groups,
    ensure_state,
    recount_state,
    verify_state,
)
from models import Ballot, Poll, PollStatus

log = logging.getLogger("livepolls.reconcile")


@dataclass
class ReconcileReport:
    polls: int = 0
    closed: list[int] = field(default_factory=list)
    rebuilt: list[int] = field(default_factory=list)
    verified: list[int] = field(default_factory=list)  # checked under a new Redis run
    repaired: dict[int, int] = field(default_factory=dict)  # poll -> count fields fixed
    folded: dict[int, int] = field(default_factory=dict)  # poll -> lost ballots put back
    finalizing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # dropped from the active set
    dropped: list[int] = field(default_factory=list)  # deleted polls whose state lingered
    # poll -> (ballots in Redis not in the database, rows in the database not in Redis)
    drift: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def total_drift(self) -> int:
        return sum(a + b for a, b in self.drift.values())

    # What a pass may change, in the order a log line names them.
    CHANGES = (
        "closed",
        "rebuilt",
        "verified",
        "repaired",
        "folded",
        "finalizing",
        "stale",
        "dropped",
    )

    @property
    def changed(self) -> bool:
        """Whether the pass did anything (drift is only measured: the drain backlog)."""
        return any(getattr(self, name) for name in self.CHANGES)

    def summary(self) -> dict[str, Any]:
        """The pass in a few fields: the job's result and its log line's extras."""
        return {
            "polls": self.polls,
            **{name: getattr(self, name) for name in self.CHANGES},
            "drift": self.total_drift,
        }

    def describe(self) -> str:
        """What changed, e.g. `rebuilt [3, 4], finalizing [2]`."""
        parts = []
        for name in self.CHANGES:
            value = getattr(self, name)
            if value:
                parts.append(f"{name} {sorted(value) if isinstance(value, dict) else value}")
        return ", ".join(parts)


async def reconcile(*, redis: Redis, arq: ArqRedis, recount_every_s: float) -> ReconcileReport:
    """One pass over every open or unfinalized poll. It runs every few seconds on a
    busy Redis, so the per-poll work that is normally a no-op is batched: one query
    and one pipeline for all polls, then the per-poll steps only where they are needed."""
    report = ReconcileReport()
    # The active set is read before the polls: a poll added after this read is not in
    # it, so it cannot be mistaken for a stale member.
    members = {int(m) for m in await redis.smembers(keys.ACTIVE_POLLS)}  # type: ignore[misc]
    polls = await Poll.filter(
        Q(status=PollStatus.OPEN) | Q(status=PollStatus.CLOSED, finalized_at__isnull=True)
    ).order_by("id")
    report.polls = len(polls)
    live = {p.id for p in polls}
    report.stale = sorted(members - live)
    if report.stale:
        await redis.srem(keys.ACTIVE_POLLS, *map(str, report.stale))  # type: ignore[misc]
        # Deleted without going through delete_poll (a cascade from a deleted owner):
        # drop the state, or the vote script would keep accepting ballots for it.
        ids = await Poll.filter(id__in=report.stale).values_list("id", flat=True)
        kept = {int(i) for i in ids}  # type: ignore[call-overload]
        report.dropped = [pid for pid in report.stale if pid not in kept]
        for poll_id in report.dropped:
            await drop_state(redis, poll_id)

    now = datetime.now(UTC)
    for poll in list(polls):
        if poll.status == PollStatus.OPEN and poll.closes_at is not None and poll.closes_at <= now:
            try:
                await close_poll(redis=redis, poll_id=poll.id, principal=None, arq=arq)
                report.closed.append(poll.id)
                poll.status = PollStatus.CLOSED
            except ApiError as exc:  # deleted meanwhile
                log.info("closing poll %d: %s", poll.id, exc.code)
                polls.remove(poll)

    # The database's newest seq is read before Redis' seq, so a ballot persisted in
    # between cannot look like one Redis lost.
    db_seq = await _newest_seqs([p.id for p in polls])
    pipe = redis.pipeline(transaction=False)
    pipe.info("server")  # one connection: the runs below are this server's
    for poll in polls:
        pipe.exists(keys.meta(poll.id))
        pipe.get(keys.seq(poll.id))
        pipe.hget(keys.meta(poll.id), "run")
    info, *state = await pipe.execute()
    here = {poll.id for poll, exists in zip(polls, state[0::3], strict=True) if exists}
    redis_seq = {poll.id: int(seq or 0) for poll, seq in zip(polls, state[1::3], strict=True)}
    run = info["run_id"]
    checked = {poll.id for poll, stamp in zip(polls, state[2::3], strict=True) if stamp == run}
    for poll in polls:
        if poll.id not in here and await ensure_state(redis, poll.id) is not None:
            report.rebuilt.append(poll.id)
            log.warning("rebuilt the lost Redis state of poll %d from the database", poll.id)
        elif (
            poll.id in here
            and poll.id not in checked
            and await ensure_state(redis, poll.id) is not None
        ):
            report.verified.append(poll.id)
            redis_seq[poll.id] = int(await redis.get(keys.seq(poll.id)) or 0)
    await ensure_outbox_groups(redis, sorted(here))
    if here:
        await redis.sadd(keys.ACTIVE_POLLS, *map(str, here))  # type: ignore[misc]

    for poll in polls:
        # Normally none: every persisted ballot's seq was assigned by this Redis, and a
        # rollback (a new run) was verified above. Whatever lost them, the same check
        # puts them back: take the stamp off and verify again.
        if poll.id in here and db_seq.get(poll.id, 0) > redis_seq[poll.id]:
            await redis.hdel(keys.meta(poll.id), "run")  # type: ignore[misc]
            folded = await verify_state(redis, poll)
            if folded:
                report.folded[poll.id] = folded
                log.warning("folded %d ballots Redis had lost back into poll %d", folded, poll.id)
        if poll.id in here or poll.id in report.rebuilt:
            fixed = await recount_state(redis, poll.id, full_every_s=recount_every_s)
            if fixed:
                report.repaired[poll.id] = fixed
                log.warning("repaired %d counts of poll %d from its voters", fixed, poll.id)
            if poll.status == PollStatus.CLOSED:
                await enqueue_finalize(arq, poll.id)
                report.finalizing.append(poll.id)

    await _measure_drift(redis, [p.id for p in polls], report)
    return report


async def _newest_seqs(poll_ids: list[int]) -> dict[int, int]:
    """The highest persisted seq per poll: one index lookup per poll, `(poll_id, seq)`."""
    if not poll_ids:
        return {}
    rows = (
        await Ballot.filter(poll_id__in=poll_ids)
        .group_by("poll_id")
        .annotate(top=Max("seq"))
        .values_list("poll_id", "top")
    )
    return {int(pid): int(top) for pid, top in rows}


async def _measure_drift(redis: Redis, poll_ids: list[int], report: ReconcileReport) -> None:
    if not poll_ids:
        DRIFT.set(0)
        return
    rows = (
        await Ballot.filter(poll_id__in=poll_ids)
        .group_by("poll_id")
        .annotate(n=Count("id"))
        .values_list("poll_id", "n")
    )
    in_db = {int(pid): int(n) for pid, n in rows}
    pipe = redis.pipeline(transaction=False)
    for poll_id in poll_ids:
        pipe.hlen(keys.voters(poll_id))
    in_redis = await pipe.execute()
    for poll_id, n_redis in zip(poll_ids, in_redis, strict=True):
        n_db = in_db.get(poll_id, 0)
        if n_redis != n_db:
            report.drift[poll_id] = (max(0, n_redis - n_db), max(0, n_db - n_redis))
    DRIFT.set(report.total_drift)
