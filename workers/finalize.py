"""Finalizing a closed poll: drain its outbox, then store the final counts in the database.

Once the close script has run no ballot enters the poll's stream, so after the stream
is drained (nothing undelivered, nothing pending on any worker) the ballots table is
complete. The final counts are computed from that table, the durable record, and
written with `finalized_at` in one transaction, only while the row is still closed.
Idempotent: a finalized poll is left alone, and two finalizers racing compute the same
counts from the same rows. A poll reopened after its close (app/polls/service.py
reopen_poll) is left open: not finalized, its new stream kept.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from redis.asyncio import Redis
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from app import keys
from app.config import Settings
from app.kinds import kind_of, shape_of
from app.polls.state import retire_outbox
from models import Ballot, Poll, PollOption, PollStatus
from workers.outbox import drain_poll


async def final_counts(poll: Poll) -> dict[str, int]:
    """The poll's count fields (app/kinds/) from its ballots in the database."""
    rows = (
        await Ballot.filter(poll_id=poll.id)
        .group_by("option_ids")
        .annotate(n=Count("id"))
        .values_list("option_ids", "n")
    )
    return dict(kind_of(str(poll.kind)).count((str(b), int(n)) for b, n in rows))


async def finalize_poll(*, redis: Redis, poll_id: int, consumer: str, settings: Settings) -> str:
    """`finalized` (now or before), `gone`, `not_closed`, or `pending` when the outbox
    could not be drained within `finalize_wait_s` (the database is down): try later."""
    poll = await Poll.get_or_none(id=poll_id)
    if poll is None:
        await redis.srem(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
        return "gone"
    if poll.finalized_at is not None:
        await retire_outbox(redis, poll_id)
        return "finalized"
    if poll.status != PollStatus.CLOSED:
        return "not_closed"  # still open, or reopened since the close that asked for this
    deadline = time.monotonic() + settings.finalize_wait_s
    drained = await drain_poll(
        redis, poll_id, consumer=consumer, settings=settings, deadline=deadline
    )
    if not drained:
        return "pending"
    option_ids = (
        await PollOption.filter(poll_id=poll_id).order_by("position").values_list("id", flat=True)
    )
    shape = shape_of(poll, [int(i) for i in option_ids])  # type: ignore[call-overload]
    kind = kind_of(shape.kind)
    counted = await final_counts(poll)
    # Every field, zeros included: the stored record reads the same as live results.
    counts = {f: counted.get(f, 0) for f in kind.fields(shape)}
    totals = kind.option_totals(shape, counts)
    async with in_transaction():
        # Still the close this drain followed, or nothing is stored: a poll reopened
        # since the check above (POST /polls/{id}/reopen) takes ballots again, and one
        # closed again since has ballots this drain may have missed. The row stays
        # locked to the commit, so a reopen coming now waits and then unfinalizes it,
        # and no ballot can enter before (Redis reopens after the row).
        finalized = await Poll.filter(
            id=poll_id, status=PollStatus.CLOSED, closed_at=poll.closed_at, finalized_at=None
        ).update(finalized_at=datetime.now(UTC), final_counts=counts)
        if finalized:
            for oid, n in totals.items():
                await PollOption.filter(id=oid).update(vote_count=n)
    if not finalized:
        again = await Poll.get_or_none(id=poll_id)
        if again is None:
            return "gone"
        if again.finalized_at is None:
            # Reopened (its next close asks again), or closed again: that close's own
            # job id was taken by this run, so this one goes again, from its drain.
            return "pending" if again.status == PollStatus.CLOSED else "not_closed"
    # Empty now, and nothing will be added (unless reopened since: retire_outbox keeps it).
    await retire_outbox(redis, poll_id)
    return "finalized"
