"""Accounts, registered and guest."""

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    # NULL for guests: they have a display name, not a login, and MySQL's unique index
    # allows any number of NULLs.
    username = fields.CharField(max_length=32, unique=True, null=True)
    display_name = fields.CharField(max_length=40, null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    is_guest = fields.BooleanField(default=False)
    # Logout-everywhere and revocation that survives a Redis flush: tokens issued
    # before this instant are refused.
    tokens_valid_after = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"

    @property
    def public_name(self) -> str:
        return self.username or self.display_name or f"Guest {self.id}"
