"""Quiz scores: a leaderboard over one quiz or a session's quizzes (app/kinds/quiz.py
says how a ballot scores).

Built from the database, whose ballots are complete once a poll is finalized (its
outbox drained after the close): a quiz counts from then on, and one closed but not
yet finalized (a second or so) is listed in `pending`, so the caller knows to ask
again rather than read a total that is about to change. A quiz whose results the
audience may not see (`owner_only`, or hidden by the host) counts for its owner only.

Ties: participants order by points, then by correct answers, both highest first;
those equal in both share a rank (1, 2, 2, 4) and are listed by user id.

Every phone in the room asks for its score the moment a quiz closes, so the standings
are computed once per change, not per request: `Boards` keeps each scope's per web
process, and rereads the scope's polls (what a change would show in) at most once per
`check_s`. A change (a quiz made final, a key fixed, results hidden) is seen within
that, and a recount happens only when the scope's fingerprint moved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.errors import Conflict, NotFound
from app.kinds import kind_of
from app.kinds.quiz import answer, ms_between, points
from app.polls.export import to_csv
from app.polls.schemas import counts_visible, effective_status
from app.polls.service import find_owned_poll, find_poll
from app.tokens import Principal
from models import Ballot, Poll, PollOption, PollStatus, User

BOARD_COLUMNS = ("rank", "user_id", "name", "points", "correct", "answered")
# Scopes kept per process (the oldest read goes first): a scope's standings hold an
# entry per participant, ~200 bytes each.
KEPT_SCOPES = 64


@dataclass(slots=True)
class Score:
    user_id: int
    name: str
    points: int = 0
    correct: int = 0
    answered: int = 0


def is_quiz(poll: Poll) -> bool:
    return kind_of(str(poll.kind)).has_answer_key


def audience_sees(poll: Poll) -> bool:
    """Whether the audience sees a closed quiz's results (the owner always does)."""
    return counts_visible(
        owner_id=poll.owner_id,  # type: ignore[attr-defined]
        visibility=str(poll.results_visibility),
        status=PollStatus.CLOSED,
        user_id=None,
        hidden=poll.results_hidden,
    )


# What the standings of a set of quizzes follow from: each one's id, status, when it
# was made final and its answer key.
Fingerprint = tuple[tuple[int, str, datetime | None, str], ...]


@dataclass(frozen=True, slots=True)
class Standings:
    counted: list[int]  # the quizzes counted: closed and final
    pending: list[int]  # closed, not yet final
    board: list[tuple[int, Score]]  # (rank, score), best first
    index: dict[int, int] = field(default_factory=dict)  # user id -> place in `board`

    @classmethod
    def of(cls, counted: list[int], pending: list[int], scores: Iterable[Score]) -> Standings:
        ordered = sorted(scores, key=lambda s: (-s.points, -s.correct, s.user_id))
        board: list[tuple[int, Score]] = []
        for i, score in enumerate(ordered):
            tied = board and (board[-1][1].points, board[-1][1].correct) == (
                score.points,
                score.correct,
            )
            board.append((board[-1][0] if tied else i + 1, score))
        return cls(counted, pending, board, {s.user_id: i for i, (_, s) in enumerate(board)})

    @staticmethod
    def entry(rank: int, s: Score) -> dict[str, Any]:
        return {
            "rank": rank,
            "user_id": s.user_id,
            "name": s.name,
            "points": s.points,
            "correct": s.correct,
            "answered": s.answered,
        }

    def json(self, *, user_id: int, limit: int, offset: int) -> dict[str, Any]:
        """The leaderboard JSON (docs/protocol.md `Leaderboard`): a page, and the
        caller's entry."""
        place = self.index.get(user_id)
        return {
            "quizzes": self.counted,
            "pending": self.pending,
            "total": len(self.board),
            "entries": [self.entry(*e) for e in self.board[offset : offset + limit]],
            "me": None if place is None else self.entry(*self.board[place]),
        }

    def csv(self) -> str:
        return to_csv(BOARD_COLUMNS, [tuple(self.entry(*e).values()) for e in self.board])


async def _keyed(quizzes: list[Poll]) -> list[tuple[Poll, str]]:
    """Each quiz with its answer key as a ballot string (sorted ids, as the vote script
    keeps ballots)."""
    by_poll: dict[int, list[PollOption]] = {p.id: [] for p in quizzes}
    if by_poll:
        for option in await PollOption.filter(poll_id__in=list(by_poll)):
            by_poll[option.poll_id].append(option)  # type: ignore[attr-defined]
    return [
        (p, answer([o.id for o in by_poll[p.id]], [o.correct for o in by_poll[p.id]]))
        for p in quizzes
    ]


def fingerprint(keyed: list[tuple[Poll, str]]) -> Fingerprint:
    return tuple((p.id, effective_status(p), p.finalized_at, key) for p, key in keyed)


async def standings(keyed: list[tuple[Poll, str]]) -> Standings:
    """Every participant's score over the final quizzes among these: one read of their
    ballots, with each voter's name."""
    final = {p.id: (p, key) for p, key in keyed if p.status == PollStatus.CLOSED and p.finalized_at}
    pending = [p.id for p, _ in keyed if p.finalized_at is None and effective_status(p) == "closed"]
    out: dict[int, Score] = {}
    if final:
        rows = await Ballot.filter(poll_id__in=list(final)).values_list(
            "poll_id", "user_id", "option_ids", "updated_at", "user__display_name", "user__username"
        )
        for poll_id, user_id, ballot, at, display_name, username in rows:
            poll, key = final[poll_id]
            assert poll.opened_at is not None and poll.closed_at is not None
            score = out.get(user_id)
            if score is None:
                name = User.name_of(user_id, display_name, username)
                score = out[user_id] = Score(user_id, name)
            right = ballot == key
            score.answered += 1
            score.correct += right
            score.points += points(
                correct=right,
                elapsed_ms=ms_between(poll.opened_at, at),
                window_ms=ms_between(poll.opened_at, poll.closed_at),
            )
    return Standings.of(list(final), pending, out.values())


@dataclass(slots=True)
class _Kept:
    checked: float  # time.monotonic() of the last read of the scope's polls
    polls: list[Poll]
    owner_id: int | None
    # For the owner (True) and the audience (False): what they were computed from.
    views: dict[bool, tuple[Fingerprint, Standings]]


Scope = tuple[str, int]  # ("poll", id) or ("session", id)
Loader = Callable[[], Awaitable[tuple[list[Poll], int | None]]]  # the polls, their owner


class Boards:
    """Each scope's standings, kept per web process (app.ctx.boards)."""

    def __init__(self, check_s: float) -> None:
        self.check_s = check_s
        self.computed = 0  # standings computed (not served from what is kept)
        self._kept: dict[Scope, _Kept] = {}
        self._refreshing: dict[Scope, asyncio.Task[_Kept]] = {}

    async def get(self, scope: Scope, load: Loader) -> _Kept:
        kept = self._kept.get(scope)
        if kept is not None and time.monotonic() - kept.checked < self.check_s:
            return kept
        task = self._refreshing.get(scope)
        if task is None:  # one reread per scope at a time; every caller waits for it
            task = asyncio.ensure_future(self._refresh(scope, load, kept))
            self._refreshing[scope] = task
            task.add_done_callback(lambda _: self._refreshing.pop(scope, None))
        return await asyncio.shield(task)

    async def _refresh(self, scope: Scope, load: Loader, kept: _Kept | None) -> _Kept:
        polls, owner_id = await load()
        quizzes = await _keyed([p for p in polls if is_quiz(p)])
        views: dict[bool, tuple[Fingerprint, Standings]] = {}
        for owner in (True, False):
            seen = [(p, key) for p, key in quizzes if owner or audience_sees(p)]
            mark = fingerprint(seen)
            # Unchanged since the last count, or the same quizzes as the owner's: reused.
            known = [kept.views.get(owner) if kept else None, views.get(True)]
            view = next((v for v in known if v is not None and v[0] == mark), None)
            if view is None:
                view = (mark, await standings(seen))
                self.computed += 1
            views[owner] = view
        fresh = _Kept(time.monotonic(), polls, owner_id, views)
        self._kept.pop(scope, None)
        self._kept[scope] = fresh
        while len(self._kept) > KEPT_SCOPES:
            del self._kept[next(iter(self._kept))]
        return fresh


async def _poll_scope(boards: Boards, poll_id: int) -> _Kept:
    async def load() -> tuple[list[Poll], int | None]:
        poll = await find_poll(poll_id=poll_id)
        return [poll], poll.owner_id  # type: ignore[attr-defined]

    return await boards.get(("poll", poll_id), load)


def _quiz_of(kept: _Kept, user_id: int) -> Poll:
    """The scope's one poll, as `find_readable_poll` would give it, and a quiz."""
    (poll,) = kept.polls
    if poll.status == PollStatus.DRAFT and user_id != kept.owner_id:
        raise NotFound("poll not found")
    if not is_quiz(poll):
        raise Conflict("only a quiz has a leaderboard", code="conflict")
    return poll


def _view(kept: _Kept, user_id: int) -> Standings:
    return kept.views[user_id == kept.owner_id][1]


async def poll_leaderboard(
    *, boards: Boards, principal: Principal, poll_id: int, limit: int, offset: int
) -> dict[str, Any]:
    """One quiz's leaderboard; 409 for a poll of another kind."""
    kept = await _poll_scope(boards, poll_id)
    _quiz_of(kept, principal.user_id)
    return _view(kept, principal.user_id).json(
        user_id=principal.user_id, limit=limit, offset=offset
    )


async def owner_poll_leaderboard_csv(*, boards: Boards, principal: Principal, poll_id: int) -> str:
    await find_owned_poll(principal=principal, poll_id=poll_id)  # 403 / 404 as ever
    kept = await _poll_scope(boards, poll_id)
    _quiz_of(kept, principal.user_id)
    return _view(kept, principal.user_id).csv()


async def scope_leaderboard(
    *, boards: Boards, scope: Scope, load: Loader, user_id: int, limit: int, offset: int
) -> dict[str, Any]:
    kept = await boards.get(scope, load)
    return _view(kept, user_id).json(user_id=user_id, limit=limit, offset=offset)


async def scope_csv(*, boards: Boards, scope: Scope, load: Loader, user_id: int) -> str:
    return _view(await boards.get(scope, load), user_id).csv()
