"""Accounts, registered and guest."""

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    # The login name lower-cased, so the unique index makes names unique regardless of
    # case. NULL for guests: they have a display name, not a login, and MySQL's unique
    # index allows any number of NULLs.
    username = fields.CharField(max_length=32, unique=True, null=True)
    # What clients see: a guest's chosen name, or the username as the user typed it.
    display_name = fields.CharField(max_length=40, null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    is_guest = fields.BooleanField(default=False)
    # Logout-everywhere and revocation that survives a Redis flush: tokens issued
    # before this instant are refused.
    tokens_valid_after = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"
        # The guest sweep's scan (workers/guests.py): old guests, oldest first.
        indexes = (("is_guest", "created_at"),)

    @property
    def public_name(self) -> str:
        return self.name_of(self.id, self.display_name, self.username)

    @staticmethod
    def name_of(user_id: int, display_name: str | None, username: str | None) -> str:
        """`public_name` of a row read as values (no model built)."""
        return display_name or username or f"Guest {user_id}"
