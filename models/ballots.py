"""Ballots, written behind from the Redis outbox by the workers."""

from tortoise import fields
from tortoise.models import Model

from models.polls import Poll
from models.users import User


class Ballot(Model):
    id = fields.BigIntField(primary_key=True)
    poll: fields.ForeignKeyRelation[Poll] = fields.ForeignKeyField(
        "models.Poll", related_name="ballots", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="ballots", on_delete=fields.CASCADE
    )
    # Sorted, comma-separated option ids, exactly as the vote script stores them.
    option_ids = fields.CharField(max_length=255)
    # The poll's seq when this ballot was cast or last changed. Upserts keep the row
    # with the higher seq, so replayed or reordered outbox entries never roll a
    # changed ballot back.
    seq = fields.BigIntField()
    cast_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "ballots"
        unique_together = (("poll_id", "user_id"),)
        # The reconciler's "ballots newer than Redis' seq" check is a range scan here.
        indexes = (("poll_id", "seq"),)
