"""Single and multiple choice: a ballot is a set of option ids, each counted once."""

from __future__ import annotations

from collections.abc import Mapping

from app.errors import invalid_field
from app.kinds.base import Asked, Kind, PollText, Rules


class Choice(Kind):
    def __init__(self, name: str) -> None:
        self.name = name

    def rules(self, asked: Asked) -> Rules:
        if self.name == "single":
            if asked.max_choices not in (None, 1):
                raise invalid_field("max_choices", "a single-choice poll allows exactly 1 choice")
            return Rules(max_choices=1)
        if asked.max_choices is None:
            return Rules(max_choices=asked.n_options)
        if asked.max_choices > asked.n_options:
            raise invalid_field("max_choices", f"must be between 1 and {asked.n_options}")
        return Rules(max_choices=asked.max_choices)

    def result_rows(
        self, poll: PollText, counts: Mapping[str, int], total: int
    ) -> list[tuple[object, ...]]:
        return [
            (oid, label, position, counts.get(str(oid), 0), "", "", "")
            for position, (oid, label) in enumerate(
                zip(poll.shape.option_ids, poll.labels, strict=True)
            )
        ]
