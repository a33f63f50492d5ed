"""Refresh tokens: the renewable sessions behind short-lived access tokens (app/sessions.py)."""

from tortoise import fields
from tortoise.models import Model

from models.users import User


class RefreshToken(Model):
    """One refresh token of a session (a *family*: each rotation adds a row to it).

    Only the SHA-256 of the secret is stored, so a copy of this table opens nothing.
    A row is spent when `used_at` is set (rotated into `replaced_by`); a family is dead
    as soon as any of its rows has `revoked_at`, which logout and reuse set on all.
    """

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    user_id: int
    family = fields.CharField(max_length=32, db_index=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    used_at = fields.DatetimeField(null=True)
    replaced_by = fields.BigIntField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"
