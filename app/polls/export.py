"""A poll's results and ballots as CSV, for its owner (`GET /polls/{id}/results.csv`,
`GET /polls/{id}/ballots.csv`) and for operators (`python -m app.admin export`).

Results, one row per option in position order (a rating: per value, 1 first):
`option_id, label, position, count, points, average`, the counts as the service
serves them (live from Redis, or the stored final counts of a finalized poll); what
each column means for each kind is in app/kinds/ and docs/protocol.md. Ballots, one
row per voter, from the database, in seq order: `user_id, option_ids, seq, cast_at`;
`option_ids` is the ballot as kept (sorted ids for choice, a ranking's first choice
first, a rating's value) joined by commas (one quoted CSV field), `seq` the poll's seq
when the ballot was cast or last changed, `cast_at` ISO 8601 UTC. The database has the ballots the
workers have persisted: a poll's last second of votes may still be in its outbox
until it is finalized, so export the ballots of a closed, finalized poll to have
them all.

Ballots are read in pages of `BALLOT_PAGE` (keyset on `(seq, user_id)`, the
`(poll_id, seq)` index), so a poll of any size is exported in bounded memory and
the REST route streams it page by page. While a poll is open, a ballot changed
during its export can show at its old seq and again at its new one; a closed poll's
ballots no longer move.

Every text cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
`@`, a tab or a carriage return) is written with a `'` in front: a label such as
`=HYPERLINK(...)` must arrive as text in whatever opens the file, not run there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence

from redis.asyncio import Redis
from tortoise.expressions import Q

from app.errors import Conflict
from app.kinds import RESULT_COLUMNS as RESULT_COLUMNS
from app.kinds import PollText, kind_of, shape_of
from app.polls.service import current_tally, find_owned_poll, find_poll
from app.tokens import Principal
from models import Ballot, Poll, PollOption, PollStatus

BALLOT_COLUMNS = ("user_id", "option_ids", "seq", "cast_at")
BALLOT_PAGE = 1000
CONTENT_TYPE = "text/csv; charset=utf-8"

Row = tuple[object, ...]

# What Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that would be read as a formula, as text (OWASP "CSV injection")."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()


def to_csv(columns: tuple[str, ...], rows: list[Row]) -> str:
    return csv_text([columns, *rows])


async def poll_result_rows(*, redis: Redis, poll: Poll) -> list[Row]:
    """The one place a poll's result rows are built (its own export and its session's);
    a draft's options count 0."""
    tally = await current_tally(redis, poll)
    options = await PollOption.filter(poll_id=poll.id).order_by("position")
    text = PollText(
        shape=shape_of(poll, [o.id for o in options]),
        labels=tuple(o.label for o in options),
        correct=tuple(o.correct for o in options),
        low_label=poll.low_label,
        high_label=poll.high_label,
    )
    counts, total = (tally.counts, tally.total) if tally is not None else ({}, 0)
    return kind_of(text.shape.kind).result_rows(text, counts, total)


async def result_rows(*, redis: Redis, poll_id: int) -> list[Row]:
    return await _results(redis, await find_poll(poll_id=poll_id))


async def _results(redis: Redis, poll: Poll) -> list[Row]:
    if poll.status == PollStatus.DRAFT:
        raise Conflict("a draft has no results", code="poll_not_open")
    return await poll_result_rows(redis=redis, poll=poll)


async def owner_results_csv(*, redis: Redis, principal: Principal, poll_id: int) -> str:
    """`GET /polls/{id}/results.csv`: the owner's, whatever `results_visibility` says
    (as the owner sees `GET /polls/{id}/results`); 409 `poll_not_open` for a draft."""
    poll = await find_owned_poll(principal=principal, poll_id=poll_id)
    return to_csv(RESULT_COLUMNS, await _results(redis, poll))


async def ballot_pages(*, poll_id: int, page: int = BALLOT_PAGE) -> AsyncIterator[list[Row]]:
    """The poll's ballots, `page` rows at a time (none for a poll without ballots)."""
    after: tuple[int, int] | None = None
    while True:
        query = Ballot.filter(poll_id=poll_id)
        if after is not None:
            seq, user_id = after
            query = query.filter(Q(seq__gt=seq) | Q(seq=seq, user_id__gt=user_id))
        rows = (
            await query.order_by("seq", "user_id")
            .limit(page)
            .values_list("user_id", "option_ids", "seq", "cast_at")
        )
        if not rows:
            return
        yield [(uid, options, seq, cast_at.isoformat()) for uid, options, seq, cast_at in rows]
        if len(rows) < page:
            return
        after = (int(rows[-1][2]), int(rows[-1][0]))


async def ballot_rows(*, poll_id: int) -> list[Row]:
    poll = await find_poll(poll_id=poll_id)
    return [row async for rows in ballot_pages(poll_id=poll.id) for row in rows]


async def owner_ballots_csv(*, principal: Principal, poll_id: int) -> AsyncIterator[str]:
    """`GET /polls/{id}/ballots.csv`: ownership checked now, before anything is sent;
    the chunks are read as they are sent."""
    poll = await find_owned_poll(principal=principal, poll_id=poll_id)
    return ballot_csv(poll_id=poll.id)


async def ballot_csv(*, poll_id: int) -> AsyncIterator[str]:
    """The ballots' CSV in chunks: the header with the first page, then a page each."""
    header: list[Sequence[object]] = [BALLOT_COLUMNS]
    async for rows in ballot_pages(poll_id=poll_id):
        yield csv_text([*header, *rows])
        header = []
    if header:
        yield csv_text(header)
