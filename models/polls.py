"""Polls and their options."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.users import User

if TYPE_CHECKING:
    from models.poll_sessions import Session


class PollKind(StrEnum):
    """What a ballot is (app/kinds/ defines each)."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    RANKING = "ranking"
    QUIZ = "quiz"


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ResultsVisibility(StrEnum):
    LIVE = "live"
    AFTER_CLOSE = "after_close"
    OWNER_ONLY = "owner_only"
    AFTER_VOTE = "after_vote"


class Poll(Model):
    # Random, not sequential (app/polls/ids.py): walking ids must not find other hosts'
    # polls. Below 2**53, so JavaScript clients keep them exact.
    id = fields.BigIntField(primary_key=True, generated=False)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="polls", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=6, unique=True)
    question = fields.CharField(max_length=500)
    kind = fields.CharEnumField(PollKind, max_length=8, default=PollKind.SINGLE)
    # A ranking's k (how many options each voter orders); 1 for single and rating.
    max_choices = fields.SmallIntField(default=1)
    # A rating's values are 1..scale, the ends worded by the labels; NULL otherwise.
    scale = fields.SmallIntField(null=True)
    low_label = fields.CharField(max_length=60, null=True)
    high_label = fields.CharField(max_length=60, null=True)
    allow_change = fields.BooleanField(default=False)
    results_visibility = fields.CharEnumField(
        ResultsVisibility, max_length=11, default=ResultsVisibility.LIVE
    )
    require_account = fields.BooleanField(default=False)
    # The host's hide/reveal switch, over any visibility: while set, nobody but the
    # owner (outside projector view) is shown counts (app.polls.schemas.counts_visible).
    results_hidden = fields.BooleanField(default=False)
    status = fields.CharEnumField(PollStatus, max_length=6, default=PollStatus.OPEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    opened_at = fields.DatetimeField(null=True)
    closes_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # Set once the outbox is drained after close and option vote_counts are final.
    finalized_at = fields.DatetimeField(null=True)
    # The final tally's count fields, {"3": 12, ...} as Redis had them (app/kinds/),
    # stored with finalized_at; NULL on polls finalized before it was kept, whose
    # options' vote_count hold their counts.
    final_counts: fields.JSONField[dict[str, int]] = fields.JSONField(null=True)
    # The session (event) the poll belongs to, at most one; its place in that session.
    session: fields.ForeignKeyNullableRelation["Session"] = fields.ForeignKeyField(
        "models.Session", related_name="polls", null=True, on_delete=fields.SET_NULL
    )
    session_id: int | None
    session_position = fields.SmallIntField(null=True)

    options: fields.ReverseRelation["PollOption"]

    class Meta:
        table = "polls"
        # "my polls, newest first" and the reconciler's scan of open / closing polls.
        indexes = (
            ("owner_id", "created_at"),
            ("status", "closes_at"),
            ("session_id", "session_position"),
        )


class PollOption(Model):
    id = fields.IntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "models.Poll", related_name="options", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField()
    label = fields.CharField(max_length=200)
    # The final count, written when the poll is finalized; live counts are in Redis.
    vote_count = fields.IntField(default=0)
    # A quiz's answer key: a ballot scores when it names exactly the correct options.
    correct = fields.BooleanField(default=False)

    class Meta:
        table = "poll_options"
        unique_together = (("poll_id", "position"),)
