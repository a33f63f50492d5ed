"""Join codes: 6 characters a person can read off a projector and type on a phone.

The alphabet drops the look-alikes 0, O, 1 and I; 32^6 ≈ 1.07 billion codes, so a random draw
almost never collides and a bounded number of retries is enough.
"""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 6
MAX_ATTEMPTS = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(code: str) -> str | None:
    """The canonical form of a user-typed code, or None when it cannot be one."""
    code = code.strip().upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code
