"""Write-behind: drain the polls' outbox streams into the ballots table.

Each worker process runs one `OutboxDrainer` task (not one arq job per vote, which
caps near 2k votes/s). It is a member of the consumer group `keys.OUTBOX_GROUP` of
every active poll's stream and loops:

    XREADGROUP (about `outbox_batch` entries over all streams, BLOCK `outbox_block_ms`)
    -> one multi-row upsert in one transaction (workers/upsert.py)
    -> ack.lua: XACK, then trim what no consumer still needs, so streams hold only
       what is not yet in the database
    -> after a partial batch, wait `outbox_linger_ms` so the next one gathers.

Delivery is at least once, and that is safe: the upsert keeps the higher `seq` per
(poll, user), so a replay or a reordering never changes the result. Hence:

- an entry is acked only after its row is committed; while the database is down the
  batch is retried with capped backoff and stays pending (voting goes on in Redis);
- entries left pending by a dead worker are taken over with XAUTOCLAIM once idle for
  `outbox_claim_idle_ms`; a live worker stuck on a down database re-claims its own
  batch to itself well before that, so it is not robbed while merely waiting;
- any number of workers may run: the group shares new entries among them.

`drain_poll` empties one closed poll's stream completely (finalization).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError, ResponseError

from app import keys
from app.config import Settings
from app.metrics import OUTBOX_BATCH_ROWS, OUTBOX_LAG, OUTBOX_PERSISTED
from app.outage import Outage
from app.polls.state import ensure_outbox_group
from app.redis_batch import RedisBatch
from app.scripts import ACK
from workers.upsert import BallotRow, is_ballot, upsert_ballots

log = logging.getLogger("livepolls.outbox")

GROUP = keys.OUTBOX_GROUP
LAYOUT = ["u", "b", "s", "t"]  # the field names of an entry, in vote.lua's order
RETRY_START_S = 0.05
# While the database stays down, say so again this often (not once per retry).
LOG_EVERY_S = 30.0
ACK_ATTEMPTS = 5


def consumer_name() -> str:
    """Unique per process: a restarted worker is a new consumer, and whatever the old
    one held is reclaimed by XAUTOCLAIM."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Entry(NamedTuple):
    stream: str
    id: str
    row: BallotRow | None  # None: malformed or deleted; acked and skipped


def parse_entry(poll_id: int, stream: str, entry_id: str, fields: list[str] | None) -> Entry:
    """An entry as Redis sends it, fields flat (`u`, id, `b`, ballot, ...). Read raw:
    redis-py's stream reply parsing (a dict per entry) was a tenth of the drainer's CPU."""
    if not fields:  # deleted while pending (XCLAIM returns it without fields)
        return Entry(stream, entry_id, None)
    try:
        if fields[::2] == LAYOUT:  # as vote.lua writes them
            user, ballot, seq, at_ms = fields[1::2]
        else:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            user, ballot, seq, at_ms = values["u"], values["b"], values["s"], values["t"]
        ballot = str(ballot)
        if not is_ballot(ballot):
            raise ValueError(ballot)
        row = BallotRow(poll_id, int(user), ballot, int(seq), int(at_ms))
    except (KeyError, TypeError, ValueError):
        log.error("skipping malformed outbox entry %s %s: %r", stream, entry_id, fields)
        return Entry(stream, entry_id, None)
    return Entry(stream, entry_id, row)


def _entries(stream: str, poll_id: int, items: list[Any] | None) -> list[Entry]:
    return [
        parse_entry(poll_id, stream, entry_id, fields)
        for entry_id, fields in (items or [])
        if entry_id is not None
    ]


def read_group(
    consumer: str, streams: Sequence[str], count: int, block_ms: int | None
) -> tuple[Any, ...]:
    """XREADGROUP of new entries, as a raw command for RedisBatch."""
    block = ("BLOCK", block_ms) if block_ms is not None else ()
    return (
        "XREADGROUP",
        "GROUP",
        GROUP,
        consumer,
        "COUNT",
        count,
        *block,
        "STREAMS",
        *streams,
        *[">"] * len(streams),
    )


def share(entries: int, streams: int) -> int:
    """Each stream's part of a batch of about `entries`: COUNT applies per stream."""
    return max(1, entries // streams)


def autoclaim(stream: str, consumer: str, min_idle_ms: int, count: int) -> tuple[Any, ...]:
    """XAUTOCLAIM from the start of the stream, as a raw command for RedisBatch."""
    return ("XAUTOCLAIM", stream, GROUP, consumer, min_idle_ms, "0-0", "COUNT", count)


def command_batch(redis: Redis, settings: Settings) -> RedisBatch:
    """A drainer's pipelined connection: its XREADGROUP blocks up to outbox_block_ms
    before Redis answers, which the reply timeout must allow for."""
    return RedisBatch(
        redis, reply_timeout_s=settings.redis_reply_timeout_s + settings.outbox_block_ms / 1000
    )


async def ack(commands: RedisBatch, batch: Sequence[Entry]) -> None:
    """Ack the entries and trim their streams (app/lua/ack.lua). If Redis fails here
    they stay pending and are written again later, which is harmless.

    A batch spans every live poll's stream, one script call each, all in one
    RedisBatch write (redis-py's pipeline packing cost a tenth of the drainer's CPU)."""
    by_stream: dict[str, list[str]] = {}
    for entry in batch:
        by_stream.setdefault(entry.stream, []).append(entry.id)
    delay = RETRY_START_S
    for attempt in range(ACK_ATTEMPTS):
        try:
            await asyncio.gather(
                *(
                    commands.run_script(ACK, [stream], [GROUP, *ids])
                    for stream, ids in by_stream.items()
                )
            )
            return
        except RedisError as exc:
            if attempt == ACK_ATTEMPTS - 1:
                log.warning("could not ack %d entries (%s); they will replay", len(batch), exc)
                return
            await asyncio.sleep(delay)
            delay *= 2


async def _hold(redis: Redis, batch: Sequence[Entry], consumer: str) -> None:
    """Reset the idle time of entries this consumer still holds, so no other worker
    takes them over while the database is merely down."""
    by_stream: dict[str, list[Any]] = {}
    for entry in batch:
        by_stream.setdefault(entry.stream, []).append(entry.id)
    try:
        pipe = redis.pipeline(transaction=False)
        for stream, ids in by_stream.items():
            pipe.xclaim(stream, GROUP, consumer, 0, ids, justid=True)
        await pipe.execute(raise_on_error=False)
    except RedisError as exc:
        log.debug("could not re-claim held entries: %s", exc)


async def persist(
    redis: Redis,
    commands: RedisBatch,
    batch: Sequence[Entry],
    *,
    consumer: str,
    settings: Settings,
    deadline: float | None = None,
) -> bool:
    """Upsert the batch (retrying with capped backoff while the database fails), then
    ack it. False when `deadline` (monotonic) passed first; the entries stay pending."""
    rows = [e.row for e in batch if e.row is not None]
    delay = RETRY_START_S
    failing_since = last_log = held_at = 0.0
    while True:
        try:
            kept = await upsert_ballots(rows) if rows else 0
            break
        except Exception as exc:
            now = time.monotonic()
            if not failing_since:
                failing_since = last_log = held_at = now
                log.warning(
                    "database write of %d ballots failed (%s: %s); keeping them pending, retrying",
                    len(rows),
                    type(exc).__name__,
                    exc,
                )
            elif now - last_log >= LOG_EVERY_S:
                last_log = now
                log.warning("database still failing after %.0f s: %s", now - failing_since, exc)
            if deadline is not None and now + delay > deadline:
                return False
            if (now - held_at) * 1000 >= settings.outbox_claim_idle_ms / 3:
                held_at = now
                await _hold(redis, batch, consumer)
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.outbox_retry_max_s)
    committed = time.time()
    if failing_since:
        log.info("database writes recovered after %.1f s", time.monotonic() - failing_since)
    OUTBOX_PERSISTED.inc(kept)
    OUTBOX_BATCH_ROWS.observe(len(rows))
    for row in rows:
        OUTBOX_LAG.observe(max(0.0, committed - row.at_ms / 1000))
    await ack(commands, batch)
    return True


class OutboxDrainer:
    """The long-running drain task of one worker process."""

    def __init__(self, redis: Redis, settings: Settings, *, consumer: str | None = None) -> None:
        self.redis = redis
        self.settings = settings
        self.consumer = consumer or consumer_name()
        # The drainer's own pipelined connection, for its reads and acks.
        self.commands = command_batch(redis, settings)
        self._streams: dict[str, int] = {}  # outbox key -> poll id
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._refresh_at = 0.0
        self._claim_at = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-drainer-{self.consumer}")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Finish the batch in hand (for up to `grace_s`), then leave the consumer group."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        except Exception:
            log.exception("outbox drainer ended with an error")
        await self._forget_consumer()
        await self.commands.aclose()

    async def _run(self) -> None:
        log.info("outbox drainer running as consumer %s", self.consumer)
        listener = asyncio.create_task(self._listen())
        # Redis unreachable (or a bug): one line per outage, back off, carry on. Database
        # failures never get here: `persist` waits them out itself.
        outage = Outage(log, "outbox drain", cap_s=self.settings.redis_retry_max_s)
        try:
            while not self._stopping:
                try:
                    await self._step()
                except Exception as exc:
                    await outage.wait(exc)
                else:
                    outage.recovered()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _listen(self) -> None:
        """Wake the loop the moment a poll goes live (a periodic refresh covers losses)."""
        while True:
            pubsub: PubSub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.outbox_wakeup(self.redis))
                async for _ in pubsub.listen():
                    self._wake.set()
            except RedisError as exc:
                log.debug("wakeup subscription lost: %s", exc)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(self.settings.outbox_refresh_s)

    async def _step(self) -> None:
        now = time.monotonic()
        if self._wake.is_set() or now >= self._refresh_at:
            self._wake.clear()
            await self.refresh()
        if not self._streams:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_refresh_s)
            return
        if now >= self._claim_at:
            self._claim_at = now + max(self.settings.outbox_claim_idle_ms / 2000, 0.05)
            claimed = await self._reclaim()
            if claimed:
                await persist(
                    self.redis,
                    self.commands,
                    claimed,
                    consumer=self.consumer,
                    settings=self.settings,
                )
                self._claim_at = 0.0  # there may be more: claim again next step
                return
        batch = await self.read_batch()
        if batch:
            await persist(
                self.redis, self.commands, batch, consumer=self.consumer, settings=self.settings
            )
        if 0 < len(batch) < self.settings.outbox_batch and not self._stopping:
            # Caught up: let the next batch gather. Without this a trickle of votes
            # costs a read over every stream and a transaction each (200 votes/s kept
            # a third of a core busy); the wait adds at most this much write-behind lag.
            await asyncio.sleep(self.settings.outbox_linger_ms / 1000)

    async def refresh(self) -> None:
        """Re-read which polls' streams to drain (again at the next step if this fails,
        so a step without Redis never passes for a successful one)."""
        refresh_at = time.monotonic() + self.settings.outbox_refresh_s
        members = sorted(int(m) for m in await self.redis.smembers(keys.ACTIVE_POLLS))  # type: ignore[misc]
        pipe = self.redis.pipeline(transaction=False)
        for poll_id in members:
            pipe.exists(keys.outbox(poll_id))
        found = await pipe.execute() if members else []
        # A member without a stream lost its state (Redis flushed) or was just deleted;
        # the rebuild or the reconciler puts it back or takes it out.
        self._streams = {
            keys.outbox(poll_id): poll_id for poll_id, ok in zip(members, found, strict=True) if ok
        }
        self._refresh_at = refresh_at

    async def read_batch(self) -> list[Entry]:
        """New entries of the active polls' streams, about `outbox_batch` in all.

        XREADGROUP's COUNT is per stream, so one read over every stream could return
        streams times COUNT entries: with 70 polls behind, 70,000 in one Redis command
        that every vote waits behind, then one upsert that holds MariaDB (which does not
        run at the worker's niceness) for most of a second. So each stream gets its
        share of the batch (at least one entry), and the streams that filled theirs are
        read again for what is left, until the batch is full or they are drained. Only
        the first read blocks: the others go to streams known to hold more."""
        streams = list(self._streams)
        block: int | None = self.settings.outbox_block_ms
        batch: list[Entry] = []
        while streams and len(batch) < self.settings.outbox_batch:
            count = share(self.settings.outbox_batch - len(batch), len(streams))
            try:
                reply = await self.commands.execute(
                    *read_group(self.consumer, streams, count, block)
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self._repair_groups()
                break  # what was read is this consumer's now: write it
            block = None
            streams = []
            for stream, items in reply or []:
                batch += _entries(stream, self._streams.get(stream, 0), items)
                if items and len(items) >= count:
                    streams.append(stream)
        return batch

    async def _repair_groups(self) -> None:
        """A stream lost its group: deleted with its poll or at finalization (the poll
        leaves the active set: forget it), or deleted and recreated by a late XADD while
        the poll is still active (recreate the group so those entries drain). Refresh."""
        for stream, poll_id in list(self._streams.items()):
            active = await self.redis.sismember(keys.ACTIVE_POLLS, str(poll_id))  # type: ignore[misc]
            if active and await self.redis.exists(keys.meta(poll_id)):
                await ensure_outbox_group(self.redis, poll_id)
            else:
                self._streams.pop(stream, None)
        self._refresh_at = 0.0

    async def _reclaim(self) -> list[Entry]:
        """Take over entries another consumer has held for longer than the claim idle,
        each stream's share of a batch (the next step claims again while any came)."""
        streams = list(self._streams.items())
        count = share(self.settings.outbox_batch, len(streams))
        replies = await asyncio.gather(
            *(
                self.commands.execute(
                    *autoclaim(stream, self.consumer, self.settings.outbox_claim_idle_ms, count)
                )
                for stream, _ in streams
            ),
            return_exceptions=True,
        )
        batch: list[Entry] = []
        for (stream, poll_id), reply in zip(streams, replies, strict=True):
            if isinstance(reply, ResponseError):
                continue  # NOGROUP: handled by the next read
            if isinstance(reply, BaseException):
                raise reply
            batch += _entries(stream, poll_id, reply[1])
        if batch:
            log.info("reclaimed %d outbox entries from a silent worker", len(batch))
        return batch

    async def _forget_consumer(self) -> None:
        """Leave the groups where this consumer holds nothing, so they do not fill up
        with the names of stopped processes. Holding entries, it stays: they must remain
        claimable."""
        for stream in list(self._streams):
            try:
                summary = await self.redis.xpending(stream, GROUP)
                if all(c["name"] != self.consumer for c in summary["consumers"]):
                    await self.redis.xgroup_delconsumer(stream, GROUP, self.consumer)
            except RedisError:
                continue


async def drain_poll(
    redis: Redis, poll_id: int, *, consumer: str, settings: Settings, deadline: float
) -> bool:
    """Persist every entry of a (closed) poll's stream, new or pending on any consumer;
    True once nothing is undelivered or pending. Taking over entries a live worker is
    writing at that moment is fine: both writes are the same upsert."""
    stream = keys.outbox(poll_id)
    if not await redis.exists(stream):
        return True
    commands = command_batch(redis, settings)
    try:
        return await _drain_stream(redis, commands, poll_id, consumer, settings, deadline)
    finally:
        await commands.aclose()


async def _drain_stream(
    redis: Redis,
    commands: RedisBatch,
    poll_id: int,
    consumer: str,
    settings: Settings,
    deadline: float,
) -> bool:
    stream = keys.outbox(poll_id)
    while time.monotonic() < deadline:
        try:
            reply = await commands.execute(
                *read_group(consumer, [stream], settings.outbox_batch, None)
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            if not await redis.exists(stream):
                return True
            await ensure_outbox_group(redis, poll_id)
            continue
        batch = _entries(stream, poll_id, reply[0][1] if reply else [])
        claimed = await commands.execute(*autoclaim(stream, consumer, 0, settings.outbox_batch))
        batch += _entries(stream, poll_id, claimed[1])
        if batch:
            if not await persist(
                redis, commands, batch, consumer=consumer, settings=settings, deadline=deadline
            ):
                return False
            continue
        summary = await redis.xpending(stream, GROUP)
        if int(summary["pending"]) == 0:
            return True
        await asyncio.sleep(0.05)
    return False
