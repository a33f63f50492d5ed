"""Casting ballots: one atomic Lua script per vote, micro-batched per event-loop tick.

`vote.lua` decides everything in Redis (open?, options valid?, previous ballot?)
and writes nothing unless the ballot is accepted or changed; then it appends to the
poll's outbox stream and publishes the new tally. That makes `cast` safe to retry:
the same ballot again is `unchanged`.

A bare `await evalsha()` per vote costs ~55 µs of Python CPU; sending every vote
that arrives in one loop tick as one write (app/redis_batch.py) cuts it to ~10 µs.
Each caller still gets its own result; NOSCRIPT (Redis restarted) reloads the script
and retries only the affected calls; `no_state` rebuilds the poll from the database
and retries once, and so does `unverified` (Redis restarted, maybe from an older
append-only file: the poll is checked against the database first, app/polls/state.py).
The run id that check compares with rides in the vote's own EVALSHA (`SERVER_RUN`),
so it costs no round trip.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app import keys
from app.errors import ApiError, Conflict, Forbidden, NotFound, ValidationFailed
from app.metrics import VOTES
from app.polls.state import ensure_state
from app.redis_batch import SERVER_RUN, RedisBatch
from app.scripts import VOTE
from app.tokens import Principal

MAX_OPTION_ID = 2**31 - 1

_ERRORS: dict[str, ApiError] = {
    "not_found": NotFound("poll not found"),
    "poll_not_open": Conflict("the poll is not open", code="poll_not_open"),
    "already_voted": Conflict(
        "you already voted and this poll does not allow changes", code="already_voted"
    ),
    "account_required": Forbidden(
        "this poll requires a registered account", code="account_required"
    ),
    "invalid_option": ApiError(
        "the ballot names an option that is not in this poll", code="invalid_option", status=422
    ),
    "too_many_choices": ApiError(
        "the ballot names more options than this poll allows", code="too_many_choices", status=422
    ),
    "wrong_rank_count": ApiError(
        "a ranking ballot orders exactly max_choices options", code="wrong_rank_count", status=422
    ),
    "wrong_ballot": ApiError(
        "a rating poll takes a rating; every other kind takes option_ids",
        code="wrong_ballot",
        status=422,
    ),
}

# The forms of a ballot (kinds.lua's kind_ballot): option ids or a rating.
OPTION_IDS, RATING = "o", "r"
MAX_RATING = 100


@dataclass(frozen=True, slots=True)
class VoteResult:
    status: str  # accepted | changed | unchanged
    seq: int


def vote_error(code: str) -> ApiError:
    err = _ERRORS[code]
    return type(err)(err.message, code=err.code, status=err.status)


@dataclass(frozen=True, slots=True)
class Ballot:
    """A ballot as sent, checked for its form only: whether it suits the poll (its
    kind, options, limits) the vote script decides, where the poll's state is."""

    form: str  # OPTION_IDS | RATING
    text: str  # distinct ids in the order sent, "5,3,7"; or the rating, "4"


def _integral(value: object) -> object:
    """JSON's 3.0 is the integer 3."""
    return int(value) if type(value) is float and value.is_integer() else value


def ballot_of(body: Mapping[str, Any]) -> Ballot:
    """The ballot a VOTE (or the REST vote body) carries, or a 422 naming the field:
    `option_ids` (a ranking's in order, first choice first) or `rating`, not both."""
    if "rating" in body:
        if "option_ids" in body:
            raise ValidationFailed(
                "send option_ids or rating, not both",
                details=[{"field": "rating", "message": "not with option_ids"}],
            )
        rating = _integral(body["rating"])
        if type(rating) is not int or not 0 < rating <= MAX_RATING:
            raise ValidationFailed(
                "a rating is a positive integer",
                details=[{"field": "rating", "message": "an integer from 1 to the poll's scale"}],
            )
        return Ballot(RATING, str(rating))
    option_ids = body.get("option_ids")
    if not isinstance(option_ids, list) or not option_ids:
        raise ValidationFailed(
            "option_ids must be a non-empty list of option ids",
            details=[{"field": "option_ids", "message": "a non-empty list of integers"}],
        )
    ids: list[int] = []
    for i, oid in enumerate(option_ids):
        oid = _integral(oid)
        if type(oid) is not int or not 0 < oid <= MAX_OPTION_ID:
            raise ValidationFailed(
                "option ids are positive integers",
                details=[{"field": f"option_ids[{i}]", "message": "must be an option id"}],
            )
        ids.append(oid)
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "option ids must be distinct",
            details=[{"field": "option_ids", "message": "duplicate option id"}],
        )
    return Ballot(OPTION_IDS, ",".join(map(str, ids)))


class VoteEngine:
    """Per-process vote caster: each vote is one EVALSHA in its loop tick's batch."""

    def __init__(self, redis: Redis, batch: RedisBatch) -> None:
        self._redis = redis
        self._batch = batch
        # Outcomes counted here and added to the Prometheus counter once per loop tick:
        # a multiprocess-mode inc() takes a lock and writes an mmap, a few µs per vote.
        self._outcomes: collections.Counter[str] = collections.Counter()

    def _count(self, outcome: str) -> None:
        if not self._outcomes:
            asyncio.get_running_loop().call_soon(self._publish_outcomes)
        self._outcomes[outcome] += 1

    def _publish_outcomes(self) -> None:
        for outcome, n in self._outcomes.items():
            VOTES.labels(outcome).inc(n)
        self._outcomes.clear()

    def _script_args(
        self, principal: Principal, poll_id: int, ballot: Ballot
    ) -> tuple[list[str], list[Any]]:
        args = [
            str(principal.user_id),
            "1" if principal.is_guest else "0",
            ballot.text,
            str(poll_id),
            keys.channel(self._redis, poll_id),
            ballot.form,
            SERVER_RUN,
        ]
        return keys.poll_state_keys(poll_id), args

    def submit(self, principal: Principal, poll_id: int, ballot: Ballot) -> asyncio.Future[Any]:
        """Send the vote in this tick's batch without awaiting it: the future gets the
        script's raw reply, for `settle`. NOSCRIPT is left to the caller (see `cast`)."""
        return self._batch.evalsha(VOTE, *self._script_args(principal, poll_id, ballot))

    def settle(self, reply: Any, *, final: bool = False) -> VoteResult | None:
        """The result of the vote script's reply, or its error raised as the ApiError
        clients see. None: Redis has no state for the poll (flushed, restarted) or one not
        yet checked against the database under this Redis run; it must be rebuilt or
        verified (`ensure_state`) and the vote sent again (not when `final`)."""
        if reply[0] != "err":
            self._count(reply[0])
            return VoteResult(status=str(reply[0]), seq=int(reply[1]))
        code = str(reply[1])
        if code in ("no_state", "unverified") and not final:
            return None
        if code == "unverified":  # restarted again between the check and the retry
            raise RedisConnectionError("Redis restarted while the poll was being verified")
        self._count(code)
        raise vote_error("not_found" if code == "no_state" else code)

    async def cast(
        self, *, principal: Principal, poll_id: int, body: Mapping[str, Any]
    ) -> VoteResult:
        script_keys, args = self._script_args(principal, poll_id, ballot_of(body))
        result = self.settle(await self._batch.run_script(VOTE, script_keys, args))
        if result is None:
            if await ensure_state(self._redis, poll_id) is None:
                raise vote_error("not_found")
            reply = await self._batch.run_script(VOTE, script_keys, args)
            result = self.settle(reply, final=True)
        assert result is not None
        return result
