"""A session's results as one CSV (`GET /sessions/{id}/results.csv`), for its owner.

One row per option of every poll of the session, the polls in the session's order:
`poll_id, poll_position, question, status, option_id, label, position, count`; the
last four are the poll's own results rows (app/polls/export.py builds them, for both
exports). A draft is included, its options counting 0: the file lists the whole
session as the host planned it, and `status` says which polls never ran. `status` is
the effective one (`closed` once `closes_at` has passed).
"""

from __future__ import annotations

from redis.asyncio import Redis

from app.poll_sessions.service import find_owned_session, poll_ids_of
from app.polls.export import RESULT_COLUMNS, Row, poll_result_rows, to_csv
from app.polls.schemas import effective_status
from app.tokens import Principal
from models import Poll

SESSION_RESULT_COLUMNS = ("poll_id", "poll_position", "question", "status", *RESULT_COLUMNS)


async def session_result_rows(*, redis: Redis, session_id: int) -> list[Row]:
    poll_ids = await poll_ids_of(session_id)
    polls = await Poll.in_bulk(poll_ids, "id")
    rows: list[Row] = []
    for poll_id in poll_ids:
        poll = polls.get(poll_id)
        if poll is None:  # removed from the session meanwhile
            continue
        lead = (poll.id, poll.session_position, poll.question, effective_status(poll))
        rows += [(*lead, *row) for row in await poll_result_rows(redis=redis, poll=poll)]
    return rows


async def owner_session_csv(*, redis: Redis, principal: Principal, session_id: int) -> str:
    session = await find_owned_session(principal=principal, session_id=session_id)
    return to_csv(
        SESSION_RESULT_COLUMNS, await session_result_rows(redis=redis, session_id=session.id)
    )
