"""Quiz: a choice question with an answer key, scored by correctness and speed.

A ballot is a set of option ids, counted as a multiple choice's is (the vote path,
outbox and reconciliation do not know a quiz from a choice). It is correct when it
names exactly the correct options. The key stays hidden from the audience until the
poll closes (`poll_json`), so the score of a ballot is known from then on, from what
the database holds: the ballot's last change (`ballots.updated_at`, Redis' clock when
the vote script took it) against the poll's `opened_at` and `closed_at` (both Redis'
clock too, so no web server's clock is in the sum).

A correct ballot scores `MAX_POINTS - floor((MAX_POINTS - MIN_POINTS) * t / T)`: t the
time it took from the opening, T the time the question was open (from `opened_at` to
`closed_at`), t clamped into [0, T]. The instant answer gets 1000, the last-moment one
500, a wrong or partial one 0. Everyone in a question shares the same T, so only how
fast each was against the others counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from app.errors import invalid_field
from app.kinds.base import Asked, PollText, Rules
from app.kinds.choice import Choice

MAX_POINTS, MIN_POINTS = 1000, 500
_MS = timedelta(milliseconds=1)


def points(*, correct: bool, elapsed_ms: int, window_ms: int) -> int:
    if not correct:
        return 0
    window_ms = max(window_ms, 1)
    t = min(max(elapsed_ms, 0), window_ms)
    return MAX_POINTS - (MAX_POINTS - MIN_POINTS) * t // window_ms


def ms_between(start: datetime, end: datetime) -> int:
    return (end - start) // _MS


def answer(option_ids: Sequence[int], correct: Sequence[bool]) -> str:
    """The ballot string (sorted ids, as the vote script keeps it) of the answer key."""
    return ",".join(str(oid) for oid, ok in sorted(zip(option_ids, correct, strict=True)) if ok)


class Quiz(Choice):
    has_answer_key = True

    def __init__(self) -> None:
        super().__init__("quiz")

    def rules(self, asked: Asked) -> Rules:
        correct, n = asked.correct, asked.n_options
        if not correct:
            raise invalid_field(
                "correct", "a quiz needs its correct answers: the positions of those options"
            )
        if len(set(correct)) != len(correct):
            raise invalid_field("correct", "names an option twice")
        if max(correct) >= n:
            raise invalid_field("correct", f"positions are 0 to {n - 1}, one per option in order")
        key = tuple(sorted(correct))
        limit = len(key) if asked.max_choices is None else asked.max_choices
        if not len(key) <= limit <= n:
            raise invalid_field(
                "max_choices",
                f"a voter must be able to pick every correct answer: between {len(key)} and {n}",
            )
        return Rules(max_choices=limit, correct=key)

    def result_rows(
        self, poll: PollText, counts: Mapping[str, int], total: int
    ) -> list[tuple[object, ...]]:
        return [
            (*row[:-1], int(ok))
            for row, ok in zip(super().result_rows(poll, counts, total), poll.correct, strict=True)
        ]
