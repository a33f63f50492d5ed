"""Rating scale: each voter gives one value 1..scale; the tally is the distribution.

The average is exact from the counts (sum of value x count over total); the wire
carries only the counts, so every reader computes it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from app.errors import invalid_field
from app.kinds.base import Asked, Kind, PollText, Rules, Shape

SCALE_MIN, SCALE_MAX, SCALE_DEFAULT = 2, 10, 5


def average(counts: Mapping[str, int], total: int) -> Fraction | None:
    if total <= 0:
        return None
    return Fraction(sum(int(v) * int(n) for v, n in counts.items()), total)


class Rating(Kind):
    name = "rating"
    has_options = False
    has_scale = True

    def rules(self, asked: Asked) -> Rules:
        if asked.n_options:
            raise invalid_field("options", "a rating poll has a scale, not options")
        if asked.max_choices not in (None, 1):
            raise invalid_field("max_choices", "a rating takes exactly one value")
        return Rules(max_choices=1, scale=SCALE_DEFAULT if asked.scale is None else asked.scale)

    def values(self, shape: Shape) -> list[str]:
        return [str(v) for v in range(1, shape.scale + 1)]

    def option_totals(self, shape: Shape, counts: Mapping[str, int]) -> dict[int, int]:
        return {}

    def result_rows(
        self, poll: PollText, counts: Mapping[str, int], total: int
    ) -> list[tuple[object, ...]]:
        mean = average(counts, total)
        shown = "" if mean is None else f"{float(mean):.4f}"
        ends = {1: poll.low_label or "", poll.shape.scale: poll.high_label or ""}
        return [
            (value, ends.get(value, ""), value, n, value * n, shown, "")
            for value in range(1, poll.shape.scale + 1)
            for n in [int(counts.get(str(value), 0))]
        ]
