"""The kinds of poll, by name: the one registry the rest of the service asks.

Adding a kind: a module here (its rules, count fields, marks, export), its branch in
app/lua/kinds.lua, its name in models.PollKind and the schemas' `kind`, and its page
component in app/web/static/js/kinds/.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.kinds.base import RESULT_COLUMNS, Asked, Kind, PollText, Rules, Shape
from app.kinds.choice import Choice
from app.kinds.quiz import Quiz
from app.kinds.ranking import Ranking
from app.kinds.rating import Rating

if TYPE_CHECKING:
    from models import Poll

KINDS: dict[str, Kind] = {
    k.name: k for k in (Choice("single"), Choice("multiple"), Rating(), Ranking(), Quiz())
}


def kind_of(name: str) -> Kind:
    return KINDS[str(name)]


def shape_of(poll: Poll, option_ids: Sequence[int]) -> Shape:
    return Shape(
        kind=str(poll.kind),
        option_ids=tuple(option_ids),
        max_choices=int(poll.max_choices),
        scale=int(poll.scale or 0),
    )


__all__ = [
    "KINDS",
    "RESULT_COLUMNS",
    "Asked",
    "Kind",
    "PollText",
    "Rules",
    "Shape",
    "kind_of",
    "shape_of",
]
