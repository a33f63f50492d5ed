"""What every kind of poll defines, and the one description of a poll it works from.

A kind is a poll's question type: what a ballot is, which count fields a tally has,
what the numbers mean on export and when the poll is finalized. Its Lua half (what
a ballot marks, inside the atomic scripts) is app/lua/kinds.lua; its page component
is app/web/static/js/kinds/<name>.js. Everything else (the vote path, outbox,
reconciliation, rooms) treats ballots as strings and tallies as count fields, the
same for every kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

# The results CSV's columns, the same for every kind (a session's export mixes kinds);
# what `count`, `points` and `average` mean is each kind's (docs/protocol.md), and
# `correct` marks a quiz's answer key (empty for the other kinds).
RESULT_COLUMNS = ("option_id", "label", "position", "count", "points", "average", "correct")


@dataclass(frozen=True, slots=True)
class Shape:
    """What a kind needs to know of one poll: its kind, option ids in position order,
    max_choices (a ranking's k) and a rating's scale (0 for the others)."""

    kind: str
    option_ids: tuple[int, ...]
    max_choices: int
    scale: int

    @classmethod
    def of_json(cls, poll: Mapping[str, Any]) -> Shape:
        """From a poll as `poll_json` shows it (the rooms keep that)."""
        return cls(
            kind=str(poll["kind"]),
            option_ids=tuple(int(o["id"]) for o in poll["options"]),
            max_choices=int(poll["max_choices"]),
            scale=int(poll.get("scale") or 0),
        )


@dataclass(frozen=True, slots=True)
class Asked:
    """What a create or patch body asks of a poll's rules (None: not sent), and how
    many options the poll will have."""

    n_options: int
    max_choices: int | None = None
    scale: int | None = None
    correct: Sequence[int] | None = None  # positions


@dataclass(frozen=True, slots=True)
class Rules:
    """A poll's voting rules as its kind settled them from a create or patch body."""

    max_choices: int
    scale: int | None = None
    # A quiz's correct options, by position; empty for the other kinds.
    correct: tuple[int, ...] = ()


class Kind(ABC):
    name: str
    # Whether the poll has options (labels the audience picks from).
    has_options: ClassVar[bool] = True
    # Whether its values are 1..scale (a rating's `scale`).
    has_scale: ClassVar[bool] = False
    # Whether some options are the correct answers (a quiz's answer key, `correct`).
    has_answer_key: ClassVar[bool] = False

    @abstractmethod
    def rules(self, asked: Asked) -> Rules:
        """The poll's rules from what the host asked, or the 422 naming the field that
        is wrong. Fields of another kind never get here (app/polls/service.py refuses
        a scale but for a rating, an answer key but for a quiz)."""

    def values(self, shape: Shape) -> list[str]:
        """What a ballot may name: the vote script's `meta.options`."""
        return [str(i) for i in shape.option_ids]

    def fields(self, shape: Shape) -> list[str]:
        """Every count field of the poll's tally, in display order: results show each,
        zeros included."""
        return self.values(shape)

    def marks(self, ballot: str) -> list[str]:
        """The count fields a ballot adds one to (kinds.lua's `kind_marks`)."""
        return ballot.split(",")

    def count(self, ballots: Iterable[tuple[str, int]]) -> Counter[str]:
        """The counts of (ballot, how many voters cast it) pairs."""
        counts: Counter[str] = Counter()
        for ballot, n in ballots:
            for field in self.marks(ballot):
                counts[field] += n
        return counts

    def option_totals(self, shape: Shape, counts: Mapping[str, int]) -> dict[int, int]:
        """The number stored per option when the poll is finalized (`vote_count`)."""
        return {oid: int(counts.get(str(oid), 0)) for oid in shape.option_ids}

    @abstractmethod
    def result_rows(
        self, poll: PollText, counts: Mapping[str, int], total: int
    ) -> list[tuple[object, ...]]:
        """The results CSV's rows (`RESULT_COLUMNS`), in display order."""


@dataclass(frozen=True, slots=True)
class PollText:
    """A poll's shape and its words, for exports."""

    shape: Shape
    labels: tuple[str, ...]  # the options', in position order
    correct: tuple[bool, ...] = ()  # the options' (a quiz's answer key), in position order
    low_label: str | None = None
    high_label: str | None = None
