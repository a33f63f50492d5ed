"""Access tokens: HS256 JWTs that carry who the caller is.

Nothing in a token is trusted before the signature, the pinned algorithm and every
required claim have been checked. `guest` rides in the token so the vote path can
apply `require_account` without a database read; `sid` names the session (the
refresh-token family, app/sessions.py) the token was issued in, so logout can end it.
Tokens without `sid` (issued before sessions existed) stay valid.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

import jwt

from app.config import Settings
from app.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti", "iss"]
# users.id is an INT: a `sub` beyond it names nobody, and one of thousands of digits
# would cost int() its conversion limit (a ValueError, once a 500).
MAX_USER_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request or WebSocket."""

    user_id: int
    is_guest: bool
    jti: str
    issued_at: int
    expires_at: int
    session: str | None = None


def issue_token(
    settings: Settings, *, user_id: int, is_guest: bool, session: str | None = None
) -> tuple[str, Principal]:
    now = time.time()
    principal = Principal(
        user_id=user_id,
        is_guest=is_guest,
        jti=uuid.uuid4().hex,
        issued_at=int(now),
        # Rounded up: the token lives at least `expires_in` seconds from now, which is
        # what clients time their renewal by (truncated, a short life lost up to 1 s).
        expires_at=math.ceil(now + settings.jwt_ttl_s),
        session=session,
    )
    claims: dict[str, object] = {
        "sub": str(user_id),
        "guest": is_guest,
        "iat": principal.issued_at,
        "exp": principal.expires_at,
        "jti": principal.jti,
        "iss": settings.jwt_issuer,
    }
    if session is not None:
        claims["sid"] = session
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)
    return token, principal


def decode_token(settings: Settings, token: str) -> Principal:
    """Verify signature and claims; any failure is a plain 401 with no hint why."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_s,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError:
        raise Unauthorized("invalid or expired token") from None
    sub, jti, guest = claims["sub"], claims["jti"], claims.get("guest", False)
    user_id = parse_user_id(sub)
    if user_id is None or not (isinstance(jti, str) and jti):
        raise Unauthorized("invalid or expired token")
    if not isinstance(guest, bool) or not isinstance(claims["iat"], int):
        raise Unauthorized("invalid or expired token")
    session = claims.get("sid")
    if session is not None and not (isinstance(session, str) and session):
        raise Unauthorized("invalid or expired token")
    return Principal(
        user_id=user_id,
        is_guest=guest,
        jti=jti,
        issued_at=claims["iat"],
        expires_at=int(claims["exp"]),
        session=session,
    )


def parse_user_id(sub: object) -> int | None:
    """The user id of a `sub` claim: ASCII digits only ("²".isdigit() is true, and
    int() reads other scripts' digits too), within the users table's range."""
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and len(sub) <= 10):
        return None
    user_id = int(sub)
    return user_id if 0 < user_id <= MAX_USER_ID else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
