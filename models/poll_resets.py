"""A record of every results reset: what the poll had when its host zeroed it.

A reset deletes the poll's ballots; this row keeps who did it, when, how many ballots
and which counts were dropped, and the seq the poll had reached, from which its seq
goes on (a client never sees seq go backwards, app/polls/state.py).
"""

from tortoise import fields
from tortoise.models import Model

from models.polls import Poll
from models.users import User


class PollReset(Model):
    id = fields.BigIntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "models.Poll", related_name="resets", on_delete=fields.CASCADE
    )
    poll_id: int
    by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="poll_resets", on_delete=fields.CASCADE
    )
    by_id: int
    reset_at = fields.DatetimeField()
    ballots = fields.IntField()
    # {"<option id>": count} as the results showed them before the reset.
    counts: fields.JSONField[dict[str, int]] = fields.JSONField()
    # The poll's seq when it was reset (its last ballot's): seq goes on above it.
    seq = fields.BigIntField()

    class Meta:
        table = "poll_resets"
        indexes = (("poll_id", "reset_at"),)
