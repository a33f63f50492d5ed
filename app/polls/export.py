"""A poll's results and ballots as CSV, for operators (`python -m app.admin export`).

Results, one row per option in position order: `option_id, label, position, count`,
the counts as the service serves them (live from Redis, or the stored final counts of
a finalized poll). Ballots, one row per voter, from the database:
`user_id, option_ids, seq, cast_at`; `option_ids` is the ballot's sorted option ids
joined by commas (one quoted CSV field), `seq` the poll's seq when the ballot was
cast or last changed, `cast_at` ISO 8601 UTC. The database has the ballots the
workers have persisted: a poll's last second of votes may still be in its outbox
until it is finalized, so export the ballots of a closed, finalized poll to have
them all.
"""

from __future__ import annotations

import csv
import io

from redis.asyncio import Redis

from app.errors import Conflict
from app.polls.service import current_tally, find_poll
from models import Ballot, PollOption, PollStatus

RESULT_COLUMNS = ("option_id", "label", "position", "count")
BALLOT_COLUMNS = ("user_id", "option_ids", "seq", "cast_at")


async def result_rows(*, redis: Redis, poll_id: int) -> list[tuple[object, ...]]:
    poll = await find_poll(poll_id=poll_id)
    if poll.status == PollStatus.DRAFT:
        raise Conflict("a draft has no results", code="poll_not_open")
    tally = await current_tally(redis, poll)
    counts = tally.counts if tally is not None else {}
    options = await PollOption.filter(poll_id=poll.id).order_by("position")
    return [(o.id, o.label, o.position, counts.get(o.id, 0)) for o in options]


async def ballot_rows(*, poll_id: int) -> list[tuple[object, ...]]:
    poll = await find_poll(poll_id=poll_id)
    rows = (
        await Ballot.filter(poll_id=poll.id)
        .order_by("seq", "user_id")
        .values_list("user_id", "option_ids", "seq", "cast_at")
    )
    return [(uid, options, seq, cast_at.isoformat()) for uid, options, seq, cast_at in rows]


def to_csv(columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()
