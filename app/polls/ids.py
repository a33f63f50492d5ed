"""Poll ids: random integers, so an id says nothing about any other poll.

Sequential ids let anyone walk 1, 2, 3, ... and find every host's polls. An id is
drawn uniformly from [2**32, 2**53): still an integer (PROTOCOL.md), exact in
JavaScript's doubles (< 2**53), and never one of the sequential ids polls created
before this change kept (all below 2**31). With a million polls a guessed id hits one
about once in nine billion tries. A collision is a duplicate primary key, which the
caller retries with a new id.
"""

from __future__ import annotations

import secrets

MIN_POLL_ID = 2**32
MAX_POLL_ID = 2**53 - 1


def new_poll_id() -> int:
    return MIN_POLL_ID + secrets.randbelow(MAX_POLL_ID - MIN_POLL_ID + 1)


def parse_poll_id(raw: object) -> int | None:
    """The id a client sent (a path segment or a JSON value), or None if it cannot be one.
    Old polls keep their small ids, so anything from 1 up to MAX_POLL_ID is accepted."""
    if isinstance(raw, str):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
            return None
        raw = int(raw)
    if type(raw) is not int or not 0 < raw <= MAX_POLL_ID:
        return None
    return raw
