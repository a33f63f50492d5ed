"""Single and multiple choice: a ballot is a set of option ids, each counted once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.errors import invalid_field
from app.kinds.base import Kind, PollText, Rules


class Choice(Kind):
    def __init__(self, name: str) -> None:
        self.name = name

    def rules(
        self,
        *,
        n_options: int,
        max_choices: int | None,
        scale: int | None,
        correct: Sequence[int] | None = None,
    ) -> Rules:
        if scale is not None:
            raise invalid_field("scale", "only a rating poll has a scale")
        if self.name == "single":
            if max_choices not in (None, 1):
                raise invalid_field("max_choices", "a single-choice poll allows exactly 1 choice")
            return Rules(max_choices=1)
        if max_choices is None:
            return Rules(max_choices=n_options)
        if max_choices > n_options:
            raise invalid_field("max_choices", f"must be between 1 and {n_options}")
        return Rules(max_choices=max_choices)

    def result_rows(
        self, poll: PollText, counts: Mapping[str, int], total: int
    ) -> list[tuple[object, ...]]:
        return [
            (oid, label, position, counts.get(str(oid), 0), "", "", "")
            for position, (oid, label) in enumerate(
                zip(poll.shape.option_ids, poll.labels, strict=True)
            )
        ]
