"""Sessions (events): one join code for a whole talk, whose polls the audience follows.

Not to be confused with models/sessions.py (login sessions, refresh tokens). The
session's polls are the polls whose `session_id` points here, ordered by
`session_position`; `version` grows by one with every change (present, patch), in
one `UPDATE ... version = version + 1`, so MySQL orders concurrent changes.
"""

from tortoise import fields
from tortoise.models import Model

from models.users import User


class Session(Model):
    # Random like poll ids (app/polls/ids.py): walking ids must not find other talks.
    id = fields.BigIntField(primary_key=True, generated=False)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="poll_sessions", on_delete=fields.CASCADE
    )
    owner_id: int
    code = fields.CharField(max_length=6, unique=True)
    title = fields.CharField(max_length=200)
    # Plain ids, not foreign keys (polls reference sessions already; a cycle of keys
    # would need the tables built in two passes): a deleted poll drops out of the
    # session's poll list, and a current or last poll not in that list counts as none.
    current_poll_id = fields.BigIntField(null=True)
    # The poll shown last (kept through a waiting screen): "next" from waiting goes on
    # from here.
    last_poll_id = fields.BigIntField(null=True)
    version = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sessions"
        # "my sessions, newest first".
        indexes = (("owner_id", "created_at"),)
