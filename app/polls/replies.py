"""The JSON the poll API answers with (PROTOCOL.md `Poll`, `Results`, ...), as models.

Documentation, not serialization: `schemas.poll_json` and `results_json` build the
replies, these models give the OpenAPI document (app/http/docs.py) and the WebSocket
message schemas (app/ws/contract.py) their schemas. tests/test_openapi.py runs
schemathesis, which checks every reply against them, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.polls.codes import ALPHABET

Id = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
# The counts object's keys, the poll's kind's count fields (app/kinds/): an option id
# (single, multiple), a value (rating), an option id and a place, "12:1" (ranking).
CountKey = Annotated[str, Field(pattern=r"^[1-9][0-9]*(:[1-9][0-9]*)?$")]


class Reply(BaseModel):
    # Closed shapes: a field the server adds without documenting it fails the tests.
    model_config = ConfigDict(extra="forbid")


class PollOption(Reply):
    id: Id
    label: str
    position: Count
    correct: bool | None = Field(
        default=None,
        description="a quiz's options only: whether it is a correct answer; null to all "
        "but the owner until the poll closes",
    )


class Poll(Reply):
    """A poll as everybody sees it."""

    id: Id
    code: Annotated[str, Field(pattern=f"^[{ALPHABET}]{{6}}$")]
    question: str
    kind: Literal["single", "multiple", "rating", "ranking", "quiz"]
    max_choices: Id
    scale: Annotated[int, Field(ge=2, description="a rating's values are 1..scale")] | None
    low_label: str | None
    high_label: str | None
    options: list[PollOption]
    allow_change: bool
    results_visibility: Literal["live", "after_close", "owner_only", "after_vote"]
    require_account: bool
    results_hidden: bool
    status: Literal["draft", "open", "closed"]
    owner_id: Id
    created_at: datetime
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    session_id: Id | None
    session_position: Count | None


class Results(Reply):
    """A tally: `total` ballots, `counts` per count field of the poll's kind (every
    field, zeros included): per option id (single, multiple), per value (rating), per
    option id and place, "12:1" (ranking); `seq` grows by one with every accepted or
    changed ballot."""

    poll_id: Id
    status: Literal["open", "closed"]
    seq: Count
    total: Count
    counts: dict[CountKey, Count]


class PollView(Reply):
    """A poll, its results when visible to the caller, and the caller's ballot."""

    poll: Poll
    results: Results | None
    my_vote: list[Id] | None


class PollList(Reply):
    items: list[Poll]
    total: Count


class ClosedPoll(Reply):
    """The closed poll and its final results."""

    poll: Poll
    results: Results


class VoteReceipt(Reply):
    status: Literal["accepted", "changed", "unchanged"]
    seq: Count


class LeaderboardEntry(Reply):
    rank: Annotated[int, Field(ge=1, description="shared by those tied on points and correct")]
    user_id: Id
    name: str
    points: Count
    correct: Annotated[int, Field(ge=0, description="quizzes answered exactly right")]
    answered: Annotated[int, Field(ge=0, description="quizzes answered at all")]


class Leaderboard(Reply):
    """Quiz scores, highest first (docs/protocol.md "Quiz"): a page of `entries` out of
    `total` participants, and the caller's own entry (`me`, null without a ballot)."""

    quizzes: list[Id] = Field(description="the quizzes counted: closed and final")
    pending: list[Id] = Field(description="closed quizzes not yet final: ask again shortly")
    total: Count
    entries: list[LeaderboardEntry]
    me: LeaderboardEntry | None
