"""Jobs the web tier enqueues. Each is idempotent: arq may run a job again after a
worker dies, and a duplicate `_job_id` is dropped."""

from __future__ import annotations

from typing import Any

from app.errors import ApiError
from app.polls.service import close_poll


async def close_poll_at(ctx: dict[str, Any], poll_id: int) -> str:
    """Close a poll whose `closes_at` has come. Votes were already refused from that
    instant by the vote script; this makes the close official and notifies rooms."""
    try:
        await close_poll(redis=ctx["redis_handle"].client, poll_id=poll_id, principal=None)
    except ApiError as exc:  # deleted, or still a draft: nothing to close
        return exc.code
    return "closed"
