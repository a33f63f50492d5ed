"""The ballot upsert (workers/upsert.py) on the real database: idempotent, never rolls back."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models import Ballot, Poll
from tests.burst import make_voters
from tests.test_polls import create
from workers.upsert import BallotRow, dedupe, is_ballot, upsert_ballots


async def _poll(client: httpx.AsyncClient, make_person: Any) -> tuple[int, list[int]]:
    poll = await create(client, await make_person(), kind="multiple", allow_change=True)
    return poll["id"], [o["id"] for o in poll["options"]]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("3", True),
        ("3,5,12", True),
        ("1234567890", True),
        ("12345678901", False),  # an id longer than ten digits
        ("1,12345678901", False),
        ("", False),
        ("3,", False),
        (",3", False),
        ("3,,5", False),
        ("3'", False),
        ("3) OR (1", False),
        ("\u00b2", False),  # digits to str.isdigit, not to SQL
        ("\u0663", False),
        (",".join(["1234567"] * 40), False),  # longer than the column
    ],
)
def test_only_digits_and_commas_pass_as_a_ballot(text: str, ok: bool) -> None:
    assert is_ballot(text) is ok


async def test_a_lower_seq_never_rolls_a_ballot_back(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    poll_id, opts = await _poll(client, make_person)
    (voter,) = await make_voters(1)
    newer = BallotRow(poll_id, voter.user_id, f"{opts[0]},{opts[2]}", seq=5, at_ms=2_000_000)
    older = BallotRow(poll_id, voter.user_id, f"{opts[1]}", seq=3, at_ms=1_000_000)
    assert await upsert_ballots([newer]) == 1
    assert await upsert_ballots([older]) == 1  # replayed late: written, changes nothing
    row = await Ballot.get(poll_id=poll_id, user_id=voter.user_id)
    assert (row.option_ids, row.seq) == (f"{opts[0]},{opts[2]}", 5)
    assert int(row.updated_at.timestamp() * 1000) == 2_000_000
    # The earliest time seen is kept as the cast time.
    assert int(row.cast_at.timestamp() * 1000) == 1_000_000
    # A higher seq does change it, and replaying it again is a no-op.
    latest = BallotRow(poll_id, voter.user_id, f"{opts[1]}", seq=9, at_ms=3_000_000)
    for _ in range(2):
        await upsert_ballots([latest])
    row = await Ballot.get(poll_id=poll_id, user_id=voter.user_id)
    assert (row.option_ids, row.seq) == (f"{opts[1]}", 9)
    assert await Ballot.filter(poll_id=poll_id).count() == 1


async def test_a_batch_keeps_the_highest_seq_per_voter(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    poll_id, opts = await _poll(client, make_person)
    a, b = await make_voters(2)
    rows = [
        BallotRow(poll_id, a.user_id, str(opts[0]), seq=1, at_ms=1000),
        BallotRow(poll_id, b.user_id, str(opts[1]), seq=2, at_ms=1000),
        BallotRow(poll_id, a.user_id, str(opts[2]), seq=4, at_ms=2000),
        BallotRow(poll_id, a.user_id, str(opts[1]), seq=3, at_ms=1500),
    ]
    assert [r.seq for r in dedupe(rows)] == [4, 2]
    assert await upsert_ballots(rows) == 2
    got = dict(await Ballot.filter(poll_id=poll_id).values_list("user_id", "option_ids"))
    assert got == {a.user_id: str(opts[2]), b.user_id: str(opts[1])}


async def test_rows_of_deleted_polls_and_users_are_dropped(
    client: httpx.AsyncClient, make_person: Any
) -> None:
    gone_poll, opts = await _poll(client, make_person)
    kept_poll, kept_opts = await _poll(client, make_person)
    a, b = await make_voters(2)
    await Poll.filter(id=gone_poll).delete()
    rows = [
        BallotRow(gone_poll, a.user_id, str(opts[0]), seq=1, at_ms=1000),
        BallotRow(kept_poll, a.user_id, str(kept_opts[0]), seq=1, at_ms=1000),
        BallotRow(kept_poll, 2**31 - 1, str(kept_opts[0]), seq=2, at_ms=1000),
        BallotRow(kept_poll, b.user_id, str(kept_opts[1]), seq=3, at_ms=1000),
    ]
    assert await upsert_ballots(rows) == 2
    got = dict(await Ballot.filter(poll_id=kept_poll).values_list("user_id", "option_ids"))
    assert got == {a.user_id: str(kept_opts[0]), b.user_id: str(kept_opts[1])}
    assert not await Ballot.filter(poll_id=gone_poll).exists()
