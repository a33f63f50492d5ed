"""Accounts: guests now; registration and login live here too."""

from __future__ import annotations

from app.config import Settings
from app.tokens import Principal, issue_token
from models import User


def user_json(user: User) -> dict[str, object]:
    return {"id": user.id, "username": user.public_name, "is_guest": user.is_guest}


def token_json(settings: Settings, user: User) -> tuple[dict[str, object], Principal]:
    token, principal = issue_token(settings, user_id=user.id, is_guest=user.is_guest)
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.jwt_ttl_s,
        "user": user_json(user),
    }
    return body, principal


async def create_guest(*, display_name: str | None) -> User:
    return await User.create(is_guest=True, display_name=display_name)
