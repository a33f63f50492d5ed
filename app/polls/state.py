"""A poll's live state in Redis: written at open, rebuilt from the database when lost.

Redis is the authority for "is this poll open at this instant" and for the live
tally; the database is the durable record. The vote script treats a missing `meta`
hash as "state not here" and the caller runs `ensure_state`, which rebuilds meta,
voters, counts and seq from the database. `meta` is written last, so the vote
script never sees half a rebuild; a lock keeps concurrent processes from rebuilding
the same poll twice. Rebuilding is idempotent.

A Redis restarted from an older append-only file has the state, but an older one:
acks the database already holds are missing, and seq would hand out numbers already
acked. Its data cannot show it (the markers roll back too); its server process can,
since every start has a new random run id. So `meta.run` names the run under which
the state was last checked against the database: written by `write_state`, stamped by
`verify.lua` once it folded back what the database has above Redis' seq. The vote,
close and JOIN snapshot scripts refuse the poll (`unverified`) while it names another
run, and `ensure_state` verifies it before anyone votes on it again.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app import keys
from app.errors import Unavailable
from app.kinds import kind_of, shape_of
from app.polls.schemas import Tally
from app.redis_batch import SERVER_RUN, RedisBatch
from app.scripts import CLOSE, COUNTDOWN, RECOUNT, REOPEN, RETIRE, SNAPSHOT, VERIFY
from models import Ballot, Poll, PollOption, PollReset, PollStatus

# After a rebuild or a verification seq jumps past anything Redis may have acked
# before it lost its data (at most ~1 s of votes with AOF everysec), so seq never goes
# backwards for a client that saw those acks and no seq is acked twice.
SEQ_REBUILD_MARGIN = 1_000_000
REBUILD_LOCK_MS = 30_000
CHUNK = 1000
# Verifications of one poll that found its seq moved under them (another restart).
VERIFY_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ClosedTally:
    closed_at_ms: int
    tally: Tally


def _ms(poll_time: datetime | None) -> int:
    return int(poll_time.timestamp() * 1000) if poll_time is not None else 0


def meta_fields(poll: Poll, option_ids: list[int], run: str) -> dict[str, str | int]:
    shape = shape_of(poll, option_ids)
    return {
        "status": str(poll.status),
        "kind": str(poll.kind),
        "max_choices": poll.max_choices,
        "allow_change": int(poll.allow_change),
        "require_account": int(poll.require_account),
        "visibility": str(poll.results_visibility),
        "owner_id": poll.owner_id,  # type: ignore[attr-defined]
        "closes_at_ms": _ms(poll.closes_at),
        "closed_at_ms": _ms(poll.closed_at) if poll.status == PollStatus.CLOSED else 0,
        # What a ballot may name (option ids; a rating's values), for substring checks.
        "options": "," + ",".join(kind_of(shape.kind).values(shape)) + ",",
        "code": poll.code,
        "run": run,
    }


async def reset_floor(poll_id: int) -> int:
    """The seq a poll's last results reset reached (0: never reset): its ballots are gone,
    and seq goes on above it, never back (models/poll_resets.py)."""
    last = await PollReset.filter(poll_id=poll_id).order_by("-seq").first()
    return last.seq if last is not None else 0


async def server_run(redis: Redis) -> str:
    """The run id of the Redis server process the client is connected to now."""
    info = await redis.info("server")
    return str(info["run_id"])


async def write_state(
    redis: Redis, poll: Poll, option_ids: list[int], *, fresh: bool = False
) -> None:
    """Replace the poll's Redis state with what the database holds for it. `fresh`: the
    poll opens now, so no seq was ever handed out; otherwise seq jumps a margin past
    the database's, over acks Redis may have lost before they reached it."""
    poll_id = poll.id
    # Read before anything is written: should Redis restart in between, the stamp names
    # the run the writes began on, which is never the run of a server that missed them.
    run = await server_run(redis)
    rows = await Ballot.filter(poll_id=poll_id).values_list("user_id", "option_ids", "seq")
    shape = shape_of(poll, option_ids)
    kind = kind_of(shape.kind)
    counts = Counter(dict.fromkeys(kind.fields(shape), 0))
    counts.update(kind.count((str(ballot), 1) for _, ballot, _ in rows))
    max_seq = max([await reset_floor(poll_id), *(int(seq) for _, _, seq in rows)])
    seq = max_seq if fresh and not rows else max_seq + SEQ_REBUILD_MARGIN

    pipe = redis.pipeline(transaction=False)
    pipe.delete(keys.meta(poll_id), keys.voters(poll_id), keys.counts(poll_id))
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        pipe.hset(keys.voters(poll_id), mapping={str(u): str(b) for u, b, _ in chunk})
    pipe.hset(keys.counts(poll_id), mapping=dict(counts))
    # SET ... GT is Redis 7; a max via Lua-free read-compare is enough under the lock.
    pipe.get(keys.seq(poll_id))
    results = await pipe.execute()
    current_seq = int(results[-1] or 0)
    await redis.set(keys.seq(poll_id), max(seq, current_seq))
    await ensure_outbox_group(redis, poll_id)
    active = poll.status != PollStatus.DRAFT and poll.finalized_at is None
    if active:
        await redis.sadd(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
    # Last: from here on the vote script sees a complete state.
    await redis.hset(keys.meta(poll_id), mapping=meta_fields(poll, option_ids, run))  # type: ignore[misc]
    if active:
        await wake_outbox(redis, poll_id)


async def wake_outbox(redis: Redis, poll_id: int) -> None:
    """Idle workers start draining the poll's outbox now rather than at their next refresh."""
    await redis.publish(keys.outbox_wakeup(redis), str(poll_id))


async def ensure_outbox_group(redis: Redis, poll_id: int) -> None:
    await ensure_outbox_groups(redis, [poll_id])


async def ensure_outbox_groups(redis: Redis, poll_ids: list[int]) -> None:
    """Create each poll's outbox consumer group unless it exists, in one round trip."""
    if not poll_ids:
        return
    pipe = redis.pipeline(transaction=False)
    for poll_id in poll_ids:
        pipe.xgroup_create(keys.outbox(poll_id), keys.OUTBOX_GROUP, id="0", mkstream=True)
    for result in await pipe.execute(raise_on_error=False):
        if isinstance(result, Exception) and "BUSYGROUP" not in str(result):
            raise result


async def option_ids_of(poll_id: int) -> list[int]:
    ids = await PollOption.filter(poll_id=poll_id).order_by("position").values_list("id", flat=True)
    return [int(i) for i in ids]  # type: ignore[call-overload]


async def ensure_state(redis: Redis, poll_id: int) -> Poll | None:
    """Make sure the poll's Redis state exists and was checked against the database
    under the Redis server process running now; return the poll, or None if it does
    not exist. Missing state is rebuilt (`write_state`), state last checked under
    another run is verified (`verify_state`).

    Safe to call from any number of processes at once: one works under a lock,
    the others wait until the state is there and verified.
    """
    if await _settled(redis, poll_id):
        return await Poll.get_or_none(id=poll_id)
    lock = f"{keys.poll_tag(poll_id)}:rebuild"
    for _ in range(REBUILD_LOCK_MS // 50):
        if await redis.set(lock, "1", nx=True, px=REBUILD_LOCK_MS):
            try:
                poll = await Poll.get_or_none(id=poll_id)
                if poll is None:
                    return None
                if not await redis.exists(keys.meta(poll_id)) or (
                    await verify_state(redis, poll) is None
                ):
                    await write_state(redis, poll, await option_ids_of(poll_id))
                return poll
            finally:
                await redis.delete(lock)
        if await _settled(redis, poll_id):
            return await Poll.get_or_none(id=poll_id)
        await asyncio.sleep(0.05)
    raise TimeoutError(f"rebuilding the state of poll {poll_id} took too long")


async def _settled(redis: Redis, poll_id: int) -> bool:
    """The state is there and was checked under the server process running now (one
    connection, so the run id and the stamp come from the same server)."""
    pipe = redis.pipeline(transaction=False)
    pipe.info("server")
    pipe.hget(keys.meta(poll_id), "run")
    info, run = await pipe.execute()
    return run is not None and run == info["run_id"]


async def verify_state(redis: Redis, poll: Poll) -> int | None:
    """Check the poll's Redis state against the database under this Redis server
    process (app/lua/verify.lua): put back every ballot the database holds above
    Redis' seq, move seq past every seq handed out, restore a close Redis lost, stamp
    the run. Returns how many voters' ballots were put back (0 when it was verified
    already), None when Redis has no state for the poll. Idempotent, so two processes
    verifying at once fold nothing twice; ensure_state runs it under the rebuild lock
    all the same, so that they do not both read the rows."""
    poll_id = poll.id
    closed_at = 0
    if poll.status == PollStatus.CLOSED:
        closed_at = _ms(poll.closed_at) or int(time.time() * 1000)
    state_keys = keys.poll_state_keys(poll_id)[:4]
    for _ in range(VERIFY_ATTEMPTS):
        # Votes are refused until the stamp, so seq holds still while the rows are read.
        redis_seq = int(await redis.get(keys.seq(poll_id)) or 0)
        rows = await Ballot.filter(poll_id=poll_id, seq__gt=redis_seq).values_list(
            "user_id", "option_ids", "seq"
        )
        floor = max([redis_seq, *(int(seq) for _, _, seq in rows)]) + SEQ_REBUILD_MARGIN
        chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)] or [[]]
        changed = 0
        for n, chunk in enumerate(chunks):
            args: list[object] = [
                redis_seq,
                floor if n == len(chunks) - 1 else 0,
                closed_at,
                poll_id,
                keys.channel(redis, poll_id),
            ]
            for user_id, ballot, _ in chunk:
                args += [str(user_id), str(ballot)]
            out = await VERIFY.run(redis, state_keys, args)
            if isinstance(out, list):
                break
            changed += int(out)
        else:
            return changed
        if out[1] == "no_state":
            return None
        if out[1] == "verified":
            return changed
        # moved: read again
    raise TimeoutError(f"the seq of poll {poll_id} kept moving while it was verified")


async def recount_state(redis: Redis, poll_id: int, *, full_every_s: float) -> int | None:
    """Repair the counts from the voters hash (atomic); the number of fields fixed, or
    None when the poll has no state. The ballots are read only when a cheap check fails
    or the last full recount is `full_every_s` old (recount.lua says why)."""
    out = await RECOUNT.run(
        redis,
        keys.poll_state_keys(poll_id)[:4],
        [str(poll_id), keys.channel(redis, poll_id), round(full_every_s * 1000)],
    )
    if isinstance(out, list):
        return None
    return int(out)


def results_message(tally: Tally) -> bytes:
    """The RESULTS message vote.lua publishes, for tallies that move outside it."""
    return orjson.dumps(
        {
            "type": "RESULTS",
            "poll_id": tally.poll_id,
            "seq": tally.seq,
            "total": tally.total,
            "counts": tally.counts,
        }
    )


async def read_tally(redis: Redis, poll_id: int) -> Tally | None:
    """A consistent snapshot (MULTI/EXEC) of seq, voters and counts; None without state."""
    pipe = redis.pipeline(transaction=True)
    pipe.exists(keys.meta(poll_id))
    pipe.get(keys.seq(poll_id))
    pipe.hlen(keys.voters(poll_id))
    pipe.hgetall(keys.counts(poll_id))
    exists, seq, total, counts = await pipe.execute()
    if not exists:
        return None
    return Tally(
        poll_id=poll_id,
        seq=int(seq or 0),
        total=int(total),
        counts={str(k): int(v) for k, v in counts.items()},
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Joining members' view: the tally and each one's own ballot, from one instant."""

    tally: Tally
    ballots: list[list[int] | None]

    @property
    def ballot(self) -> list[int] | None:
        return self.ballots[0]


# Members read per script call: a session moving 10,000 members onto a poll blocks
# Redis for a few short scripts, not one long one.
SNAPSHOT_CHUNK = 1000


async def read_snapshot(
    redis: Redis, batch: RedisBatch, poll_id: int, user_ids: list[int]
) -> Snapshot | None:
    """One script call in the tick's batch (a JOIN storm shares its writes); None
    without state. State not yet verified under this Redis run is verified first.
    At most `SNAPSHOT_CHUNK` members: more go through `read_snapshots`."""
    script_keys, args = keys.poll_state_keys(poll_id)[:4], [*map(str, user_ids), SERVER_RUN]
    out = await batch.run_script(SNAPSHOT, script_keys, args)
    if out == ["unverified"]:
        await ensure_state(redis, poll_id)
        out = await batch.run_script(SNAPSHOT, script_keys, args)
        if out == ["unverified"]:
            raise RedisConnectionError("Redis restarted again while the poll was verified")
    if not out:
        return None
    n = int(out[2])
    flat = out[3 + n :]
    tally = Tally(
        poll_id=poll_id,
        seq=int(out[0]),
        total=int(out[1]),
        counts={str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)},
    )
    ballots = [[int(x) for x in b.split(",")] if b else None for b in out[3 : 3 + n]]
    return Snapshot(tally, ballots)


async def read_snapshots(
    redis: Redis, batch: RedisBatch, poll_id: int, user_ids: list[int]
) -> list[tuple[list[int], Snapshot]] | None:
    """`read_snapshot` for any number of members, `SNAPSHOT_CHUNK` at a time (each chunk
    from its own instant); None without state."""
    chunks = [user_ids[i : i + SNAPSHOT_CHUNK] for i in range(0, len(user_ids), SNAPSHOT_CHUNK)]
    read = await asyncio.gather(*(read_snapshot(redis, batch, poll_id, c) for c in chunks))
    if any(snapshot is None for snapshot in read):
        return None
    return [(chunk, s) for chunk, s in zip(chunks, read, strict=True) if s is not None]


async def my_ballot(redis: Redis, poll_id: int, user_id: int) -> list[int] | None:
    ballot = await redis.hget(keys.voters(poll_id), str(user_id))  # type: ignore[misc]
    return [int(x) for x in ballot.split(",")] if ballot else None


async def close_state(redis: Redis, poll_id: int) -> ClosedTally | str:
    """Run the close script; the tally it returns is final. A string is an error code."""
    out = await CLOSE.run(redis, keys.poll_state_keys(poll_id)[:4], [])
    if out[0] == "err":
        return str(out[1])
    flat = out[3:]
    counts = {str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
    tally = Tally(poll_id=poll_id, seq=int(out[1]), total=int(out[2]), counts=counts)
    return ClosedTally(closed_at_ms=int(out[0]), tally=tally)


async def reopen_state(redis: Redis, poll_id: int) -> str:
    """Take votes again on a closed poll (reopen.lua), its ballots, counts and seq kept,
    and put it back among the polls whose outboxes the workers drain: 'ok', or
    'no_state' / 'unverified' / 'poll_not_open' from the script."""
    outcome = str(
        await REOPEN.run(redis, [keys.meta(poll_id), keys.outbox(poll_id)], [keys.OUTBOX_GROUP])
    )
    if outcome == "ok":
        await redis.sadd(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
        await wake_outbox(redis, poll_id)
    return outcome


async def retire_outbox(redis: Redis, poll_id: int) -> bool:
    """After finalization: the poll leaves the active set and its drained stream goes,
    unless it was reopened meanwhile (retire.lua). Taken out first and put back when
    the script finds it open: a reopen's own add then comes either after the removal,
    or before the script, which sees the poll open; either way an open poll stays in
    the set. True when retired."""
    await redis.srem(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
    retired = bool(await RETIRE.run(redis, [keys.meta(poll_id), keys.outbox(poll_id)], []))
    if not retired:
        await redis.sadd(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
    return retired


STATUS_LOCK_MS = 10_000


@asynccontextmanager
async def status_lock(redis: Redis, poll_id: int) -> AsyncIterator[None]:
    """Serializes the changes of a poll's status that span Redis and the database
    (close, reopen): each runs its Redis script and its database update with no other
    in between, so the two never end up disagreeing (Redis open, the row closed). A
    holder that dies frees it after STATUS_LOCK_MS."""
    lock, token = f"{keys.poll_tag(poll_id)}:status", secrets.token_hex(8)
    for _ in range(STATUS_LOCK_MS // 20):
        if await redis.set(lock, token, nx=True, px=STATUS_LOCK_MS):
            break
        await asyncio.sleep(0.02)
    else:
        raise Unavailable("the poll's status is changing; try again", retry_after=1)
    try:
        yield
    finally:
        # Only our own: past STATUS_LOCK_MS another holder may have it.
        if await redis.get(lock) == token:
            await redis.delete(lock)


async def redis_now_ms(redis: Redis) -> int:
    """Redis' clock: the one vote.lua enforces `closes_at_ms` by."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def set_closes_at(redis: Redis, poll_id: int, closes_at_ms: int) -> str:
    """Move an open poll's closing instant in its Redis state (countdown.lua): 'ok',
    'no_state' or 'poll_not_open'."""
    return str(await COUNTDOWN.run(redis, [keys.meta(poll_id)], [closes_at_ms]))


async def drop_state(redis: Redis, poll_id: int) -> None:
    await redis.delete(
        keys.meta(poll_id),
        keys.voters(poll_id),
        keys.counts(poll_id),
        keys.seq(poll_id),
        keys.outbox(poll_id),
        keys.presence(poll_id),
        keys.presence_users(poll_id),
    )
    await redis.srem(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
