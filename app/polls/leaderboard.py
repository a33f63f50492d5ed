"""Quiz scores: a leaderboard over one quiz or a session's quizzes (app/kinds/quiz.py
says how a ballot scores).

Built from the database, whose ballots are complete once a poll is finalized (its
outbox drained after the close): a quiz counts from then on, and one closed but not
yet finalized (a second or so) is listed in `pending`, so the caller knows to ask
again rather than read a total that is about to change. A quiz whose results the
caller may not see (`results_visible` once closed: the owner always, the audience
unless the host keeps them hidden or owner-only) does not count for that caller.

Ties: participants order by points, then by correct answers, both highest first;
those equal in both share a rank (1, 2, 2, 4) and are listed by user id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.errors import Conflict
from app.kinds import kind_of
from app.kinds.quiz import answer, ms_between, points
from app.polls.export import to_csv
from app.polls.schemas import effective_status
from app.polls.service import find_owned_poll, find_readable_poll, results_visible
from app.tokens import Principal
from models import Ballot, Poll, PollOption, PollStatus, User


@dataclass(slots=True)
class Score:
    user_id: int
    points: int = 0
    correct: int = 0
    answered: int = 0


def is_quiz(poll: Poll) -> bool:
    return kind_of(str(poll.kind)).has_answer_key


async def scores(polls: list[Poll]) -> dict[int, Score]:
    """Every participant's score over these finalized quizzes."""
    if not polls:
        return {}
    keys: dict[int, tuple[str, Poll]] = {}
    by_poll: dict[int, list[PollOption]] = {p.id: [] for p in polls}
    for option in await PollOption.filter(poll_id__in=list(by_poll)).order_by("position"):
        by_poll[option.poll_id].append(option)  # type: ignore[attr-defined]
    for poll in polls:
        options = by_poll[poll.id]
        keys[poll.id] = (answer([o.id for o in options], [o.correct for o in options]), poll)
    out: dict[int, Score] = {}
    rows = await Ballot.filter(poll_id__in=list(keys)).values_list(
        "poll_id", "user_id", "option_ids", "updated_at"
    )
    for poll_id, user_id, ballot, at in rows:
        key, poll = keys[poll_id]
        assert poll.opened_at is not None and poll.closed_at is not None
        right = ballot == key
        score = out.get(user_id) or out.setdefault(user_id, Score(user_id))
        score.answered += 1
        score.correct += right
        score.points += points(
            correct=right,
            elapsed_ms=ms_between(poll.opened_at, at),
            window_ms=ms_between(poll.opened_at, poll.closed_at),
        )
    return out


def ranked(board: Iterable[Score]) -> list[tuple[int, Score]]:
    ordered = sorted(board, key=lambda s: (-s.points, -s.correct, s.user_id))
    out: list[tuple[int, Score]] = []
    for i, score in enumerate(ordered):
        tied = out and (out[-1][1].points, out[-1][1].correct) == (score.points, score.correct)
        out.append((out[-1][0] if tied else i + 1, score))
    return out


async def _names(user_ids: list[int]) -> dict[int, str]:
    return {u.id: u.public_name for u in await User.filter(id__in=user_ids)}


@dataclass(frozen=True, slots=True)
class Standings:
    counted: list[Poll]  # the quizzes counted: closed and final
    pending: list[Poll]  # closed, not yet final
    board: list[tuple[int, Score]]  # (rank, score), best first
    names: dict[int, str]  # user id -> display name, for the users named

    def entry(self, rank: int, s: Score) -> dict[str, Any]:
        return {
            "rank": rank,
            "user_id": s.user_id,
            "name": self.names.get(s.user_id, f"Guest {s.user_id}"),
            "points": s.points,
            "correct": s.correct,
            "answered": s.answered,
        }


async def standings(
    polls: Iterable[Poll], *, user_id: int, named: slice = slice(None), also: int | None = None
) -> Standings:
    """The quizzes among `polls` as the caller `user_id` may see them, ranked; the
    names of the `named` slice of the board (and of user `also`) looked up."""
    quizzes = [p for p in polls if is_quiz(p) and results_visible(p, user_id, PollStatus.CLOSED)]
    counted = [p for p in quizzes if p.status == PollStatus.CLOSED and p.finalized_at]
    pending = [
        p for p in quizzes if p.finalized_at is None and effective_status(p) == PollStatus.CLOSED
    ]
    board = ranked((await scores(counted)).values())
    wanted = [s.user_id for _, s in board[named]] + ([also] if also is not None else [])
    return Standings(counted, pending, board, await _names(wanted))


async def leaderboard(
    polls: Iterable[Poll], *, user_id: int, limit: int, offset: int
) -> dict[str, Any]:
    """The leaderboard JSON (docs/protocol.md `Leaderboard`) of the quizzes among
    `polls`, as the caller `user_id` may see it; a page of it, and the caller's entry."""
    page = slice(offset, offset + limit)
    got = await standings(polls, user_id=user_id, named=page, also=user_id)
    mine = next(((rank, s) for rank, s in got.board if s.user_id == user_id), None)
    return {
        "quizzes": [p.id for p in got.counted],
        "pending": [p.id for p in got.pending],
        "total": len(got.board),
        "entries": [got.entry(rank, s) for rank, s in got.board[page]],
        "me": got.entry(*mine) if mine else None,
    }


BOARD_COLUMNS = ("rank", "user_id", "name", "points", "correct", "answered")


async def leaderboard_csv(polls: Iterable[Poll], *, user_id: int) -> str:
    """Every participant's entry, best first, as CSV (`BOARD_COLUMNS`)."""
    got = await standings(polls, user_id=user_id)
    return to_csv(BOARD_COLUMNS, [tuple(got.entry(rank, s).values()) for rank, s in got.board])


async def _quiz(poll: Poll) -> Poll:
    if not is_quiz(poll):
        raise Conflict("only a quiz has a leaderboard", code="conflict")
    return poll


async def poll_leaderboard(
    *, principal: Principal, poll_id: int, limit: int, offset: int
) -> dict[str, Any]:
    """One quiz's leaderboard; 409 for a poll of another kind."""
    poll = await _quiz(await find_readable_poll(principal=principal, poll_id=poll_id))
    return await leaderboard([poll], user_id=principal.user_id, limit=limit, offset=offset)


async def owner_poll_leaderboard_csv(*, principal: Principal, poll_id: int) -> str:
    poll = await _quiz(await find_owned_poll(principal=principal, poll_id=poll_id))
    return await leaderboard_csv([poll], user_id=principal.user_id)
