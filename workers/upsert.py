"""The ballot upsert: the only dialect-specific SQL of the service.

One multi-row `INSERT` per batch on the unique `(poll_id, user_id)` key, in one
transaction. Idempotent and order-independent: a row changes only when the incoming
ballot has a higher `seq`, so a replayed or out-of-order outbox entry never rolls a
changed ballot back, and any number of workers may write the same entries. `cast_at`
keeps the earliest time seen. Raw SQL because the ORM has no conditional upsert.

Rows naming a poll or user that no longer exists (deleted meanwhile) are dropped,
never retried forever: on a foreign-key failure the batch is filtered and written again.

The VALUES are rendered as SQL literals here rather than bound: the driver's
per-parameter escaping was half the cost of a 1000-row batch. That is safe because
every value is an int, a ballot of digits and commas (checked), or a timestamp we format.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.db import placeholders

COLUMNS = "(poll_id, user_id, option_ids, seq, cast_at, updated_at)"

# Assignment order matters in MySQL: each SET sees the columns already assigned, so
# `seq` goes last and every condition compares with the row's old seq.
_MYSQL_UPDATE = """
ON DUPLICATE KEY UPDATE
  option_ids = IF(VALUES(seq) > seq, VALUES(option_ids), option_ids),
  updated_at = IF(VALUES(seq) > seq, VALUES(updated_at), updated_at),
  cast_at = LEAST(cast_at, VALUES(cast_at)),
  seq = GREATEST(seq, VALUES(seq))"""

# SQLite evaluates every SET expression against the old row, so order is free here.
_SQLITE_UPDATE = """
ON CONFLICT(poll_id, user_id) DO UPDATE SET
  option_ids = CASE WHEN excluded.seq > ballots.seq
                    THEN excluded.option_ids ELSE ballots.option_ids END,
  updated_at = CASE WHEN excluded.seq > ballots.seq
                    THEN excluded.updated_at ELSE ballots.updated_at END,
  cast_at = MIN(ballots.cast_at, excluded.cast_at),
  seq = MAX(ballots.seq, excluded.seq)
WHERE excluded.seq > ballots.seq OR excluded.cast_at < ballots.cast_at"""

log = logging.getLogger("livepolls.upsert")

# Retries after a foreign-key failure: each round drops the rows whose poll or user is gone.
MAX_ORPHAN_ROUNDS = 3


class BallotRow(NamedTuple):
    """A tuple, not a frozen dataclass: one is built per vote, and a frozen dataclass's
    __init__ (object.__setattr__ per field) was a twentieth of the drainer's CPU."""

    poll_id: int
    user_id: int
    option_ids: str  # sorted ids, "3,5"
    seq: int
    at_ms: int  # when Redis accepted it


def dedupe(rows: Iterable[BallotRow]) -> list[BallotRow]:
    """The highest-seq row per (poll, user), sorted by key so concurrent writers take
    row locks in the same order."""
    best: dict[tuple[int, int], BallotRow] = {}
    for row in rows:
        key = (row.poll_id, row.user_id)
        kept = best.get(key)
        if kept is None or row.seq > kept.seq:
            best[key] = row
    return [best[k] for k in sorted(best)]


def _dialect(conn: BaseDBAsyncClient) -> str:
    return str(conn.capabilities.dialect)


BALLOT = re.compile(r"[0-9]{1,10}(,[0-9]{1,10})*")  # \d would take any Unicode digit
MAX_BALLOT_CHARS = 255  # the column's width


def is_ballot(text: str) -> bool:
    """Option ids of digits joined by commas: safe to render as a SQL literal. Most
    ballots are one id, checked without the regex (a tenth of the drainer's CPU)."""
    if len(text) <= 10 and text.isascii() and text.isdigit():
        return True
    return len(text) <= MAX_BALLOT_CHARS and BALLOT.fullmatch(text) is not None


def _timestamp(dialect: str, at_ms: int) -> str:
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    if dialect == "mysql":
        return at.strftime("%Y-%m-%d %H:%M:%S.%f")  # DATETIME(6), UTC
    return at.isoformat(" ")  # how Tortoise stores datetimes in SQLite


def _insert_sql(dialect: str, rows: Sequence[BallotRow]) -> str:
    stamps: dict[int, str] = {}
    values = []
    for r in rows:
        if not is_ballot(r.option_ids):
            raise ValueError(f"not a ballot: {r.option_ids!r}")
        at = stamps.get(r.at_ms)
        if at is None:
            at = stamps[r.at_ms] = _timestamp(dialect, r.at_ms)
        values.append(
            f"({int(r.poll_id)},{int(r.user_id)},'{r.option_ids}',{int(r.seq)},'{at}','{at}')"
        )
    update = _MYSQL_UPDATE if dialect == "mysql" else _SQLITE_UPDATE
    return f"INSERT INTO ballots {COLUMNS} VALUES " + ",".join(values) + update


async def _existing(conn: BaseDBAsyncClient, table: str, ids: set[int]) -> set[int]:
    found: set[int] = set()
    wanted = sorted(ids)
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        sql = f"SELECT id FROM {table} WHERE id IN ({placeholders(conn, len(chunk))})"
        _, rows = await conn.execute_query(sql, list(chunk))
        found.update(int(row["id"]) for row in rows)
    return found


async def _without_orphans(rows: list[BallotRow]) -> list[BallotRow]:
    conn = connections.get("default")
    polls = await _existing(conn, "polls", {r.poll_id for r in rows})
    users = await _existing(conn, "users", {r.user_id for r in rows})
    return [r for r in rows if r.poll_id in polls and r.user_id in users]


async def upsert_ballots(rows: Sequence[BallotRow]) -> int:
    """Write the rows (deduplicated) in one transaction; return how many were kept,
    i.e. not dropped for naming a deleted poll or user. Database errors propagate:
    the caller keeps the entries and retries."""
    batch = dedupe(rows)
    for _ in range(MAX_ORPHAN_ROUNDS):
        if not batch:
            return 0
        try:
            async with in_transaction("default") as conn:
                await conn.execute_query(_insert_sql(_dialect(conn), batch))
            return len(batch)
        except IntegrityError:
            # The only constraint an upsert can break is a foreign key: a poll or a
            # user was deleted after its ballot was acked.
            kept = await _without_orphans(batch)
            log.info("dropped %d ballots of deleted polls or users", len(batch) - len(kept))
            batch = kept
    raise IntegrityError("ballots kept failing foreign keys after removing orphans")
