"""The guest sweep (workers/guests.py): unused expired guests go, voters and accounts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from app.polls.ids import new_poll_id
from models import Ballot, Poll, PollOption, RefreshToken, User
from tests.conftest import LiveServer, unique_name
from workers import runtime
from workers.guests import sweep_guests
from workers.jobs import sweep_unused_guests

RETENTION_S = 86400


async def aged(user: User, seconds: float) -> User:
    """Backdate a user's creation, as if it had been made `seconds` ago."""
    when = datetime.now(UTC) - timedelta(seconds=seconds)
    await User.filter(id=user.id).update(created_at=when)
    return user


async def session(user: User, *, expires_in_s: float, revoked: bool = False) -> None:
    now = datetime.now(UTC)
    await RefreshToken.create(
        user_id=user.id,
        family=unique_name("f"),
        token_hash=unique_name("h"),
        expires_at=now + timedelta(seconds=expires_in_s),
        revoked_at=now if revoked else None,
    )


async def ballot(poll: Poll, option: PollOption, user: User) -> None:
    now = datetime.now(UTC)
    await Ballot.create(
        poll_id=poll.id,
        user_id=user.id,
        option_ids=str(option.id),
        seq=1,
        cast_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("batch", [None, 7])
async def test_sweep_deletes_exactly_the_unused_expired_guests(
    live_server: LiveServer, batch: int | None
) -> None:
    old = RETENTION_S + 60
    host = await aged(await User.create(username=unique_name(), password_hash="!"), old)
    poll = await Poll.create(id=new_poll_id(), owner_id=host.id, code="ABCDEF", question="q?")
    option = await PollOption.create(poll_id=poll.id, position=0, label="a")

    unused_old = [await aged(await User.create(is_guest=True), old) for _ in range(25)]
    voted_old = [await aged(await User.create(is_guest=True), old) for _ in range(4)]
    for guest in voted_old:
        await ballot(poll, option, guest)
    fresh = [await aged(await User.create(is_guest=True), RETENTION_S - 60) for _ in range(3)]
    # A phone that joined days ago and still renews its session may yet vote: kept. One
    # whose session expired or was revoked cannot: it goes with the unused ones.
    renewing = await aged(await User.create(is_guest=True), old)
    await session(renewing, expires_in_s=3600)
    unused_old.append(await aged(await User.create(is_guest=True), old))
    await session(unused_old[-1], expires_in_s=-60)
    unused_old.append(await aged(await User.create(is_guest=True), old))
    await session(unused_old[-1], expires_in_s=3600, revoked=True)
    account_old = await aged(await User.create(username=unique_name(), password_hash="!"), old)

    ctx: dict[str, Any] = {"settings": live_server.app.ctx.settings}
    assert ctx["settings"].guest_retention_s == RETENTION_S
    if batch is None:  # the cron's job, as a worker runs it
        assert await sweep_unused_guests(ctx) == 27
    else:  # batches smaller than the rows: the sweep goes on batch after batch
        assert await sweep_guests(retention_s=RETENTION_S, batch=batch) == 27

    # flat=True gives the ids themselves; tortoise types every values_list as tuples.
    left = set(cast(list[int], await User.all().values_list("id", flat=True)))
    assert left == {host.id, account_old.id, renewing.id, *(u.id for u in voted_old + fresh)}
    assert not left & {u.id for u in unused_old}
    assert await Ballot.filter(poll_id=poll.id).count() == 4  # no ballot cascaded away
    assert await sweep_unused_guests(ctx) == 0  # idempotent


def test_the_sweep_is_a_worker_cron(live_server: LiveServer) -> None:
    crons = runtime.cron_jobs(live_server.app.ctx.settings)
    sweep = [c for c in crons if c.coroutine is sweep_unused_guests]
    assert len(sweep) == 1 and sweep[0].unique
