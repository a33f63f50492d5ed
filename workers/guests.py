"""The guest sweep: delete guest users that never voted once they can no longer vote.

Every `POST /auth/guest` is a row, and most guests of a big room never vote, or the
rows would be worth keeping anyway: a guest that voted is kept, since its ballots
reference it (deleting it would cascade to them and change a poll's result). A
guest votes with an access token that dies `JWT_TTL_S` after it was issued, renewed
by its session's refresh token (app/sessions.py) for as long as that lives. So a
guest with a live refresh token is kept (the phone may come back to vote: it must
stay the same voter), and one created more than `GUEST_RETENTION_S` ago (at least
a token's life) with neither a ballot in the database nor a live session never
will vote. The margin past the token's death covers ballots still on their way from
a poll's outbox.

Deletes go in batches of ids (select, then delete by id), each its own statement:
no long transaction, no `DELETE ... LIMIT` or self-referencing subquery that one
backend or the other refuses. The delete re-checks "no ballot" for its ids, so a
ballot that reached the database between the two statements keeps its guest.
Idempotent: two workers sweeping at once delete each row once between them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q, Subquery

from models import Ballot, RefreshToken, User

log = logging.getLogger("livepolls.guests")

BATCH = 1000
# A bound on one run's work (100k rows); the next run goes on where this one stopped.
MAX_BATCHES = 100


async def sweep_guests(*, retention_s: int, batch: int = BATCH) -> int:
    """Delete unused guests created more than `retention_s` ago; return how many."""
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=retention_s)
    live = Subquery(
        RefreshToken.filter(expires_at__gt=now, revoked_at__isnull=True).values("user_id")
    )
    deleted = 0
    for _ in range(MAX_BATCHES):
        ids = await (
            User.filter(is_guest=True, created_at__lt=cutoff, ballots__id__isnull=True)
            .exclude(id__in=live)
            .order_by("id")
            .limit(batch)
            .values_list("id", flat=True)
        )
        if not ids:
            break
        voted = Subquery(Ballot.filter(user_id__in=ids).values("user_id"))
        # Their dead sessions first, so the count below is of users only (SQLite counts
        # the rows a cascade deletes too). Nothing revives a dead session.
        await RefreshToken.filter(
            Q(expires_at__lte=now) | Q(revoked_at__isnull=False), user_id__in=ids
        ).delete()
        deleted += await User.filter(
            Q(id__in=ids), ~Q(id__in=voted), ~Q(id__in=live), is_guest=True
        ).delete()
        if len(ids) < batch:
            break
    if deleted:
        log.info("deleted %d unused guest(s) created before %s", deleted, cutoff.isoformat())
    return deleted
