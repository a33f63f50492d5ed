"""Ranking: each voter orders k of the n options, first choice first.

A ballot "5,3,7" marks "5:1", "3:2", "7:3" (option:place), so the tally holds how
many voters put each option in each place; every summary follows exactly from it:
Borda points (k for a first place, 1 for a k-th, 0 unranked), how many ranked it,
its average place among those. Options order by points, then by average place,
then by their position in the poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from app.errors import invalid_field
from app.kinds.base import Asked, Kind, PollText, Rules, Shape


@dataclass(frozen=True, slots=True)
class Standing:
    option_id: int
    points: int
    ranked: int
    average_place: Fraction | None


def standings(shape: Shape, counts: Mapping[str, int]) -> list[Standing]:
    """Every option's standing, in the poll's option order."""
    k = shape.max_choices
    out = []
    for oid in shape.option_ids:
        places = [int(counts.get(f"{oid}:{p}", 0)) for p in range(1, k + 1)]
        ranked = sum(places)
        out.append(
            Standing(
                option_id=oid,
                points=sum(n * (k - p) for p, n in enumerate(places)),
                ranked=ranked,
                average_place=(
                    Fraction(sum(n * (p + 1) for p, n in enumerate(places)), ranked)
                    if ranked
                    else None
                ),
            )
        )
    return out


class Ranking(Kind):
    name = "ranking"

    def rules(self, asked: Asked) -> Rules:
        n = asked.n_options
        if asked.max_choices is None:
            return Rules(max_choices=n)
        if not 2 <= asked.max_choices <= n:
            raise invalid_field("max_choices", f"a ranking orders between 2 and {n} options")
        return Rules(max_choices=asked.max_choices)

    def fields(self, shape: Shape) -> list[str]:
        return [f"{oid}:{p}" for oid in shape.option_ids for p in range(1, shape.max_choices + 1)]

    def marks(self, ballot: str) -> list[str]:
        return [f"{oid}:{p}" for p, oid in enumerate(ballot.split(","), start=1)]

    def option_totals(self, shape: Shape, counts: Mapping[str, int]) -> dict[int, int]:
        return {s.option_id: s.points for s in standings(shape, counts)}

    def result_rows(
        self, poll: PollText, counts: Mapping[str, int], total: int
    ) -> list[tuple[object, ...]]:
        return [
            (
                s.option_id,
                label,
                position,
                s.ranked,
                s.points,
                "" if s.average_place is None else f"{float(s.average_place):.4f}",
                "",
            )
            for position, (s, label) in enumerate(
                zip(standings(poll.shape, counts), poll.labels, strict=True)
            )
        ]
