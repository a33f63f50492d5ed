"""Write-behind under real faults: killed workers, several workers, the database away.

The invariant every test checks: once the outbox is drained, the ballots table holds
exactly the acked ballots (same voters, same option ids, the latest of each voter),
with no duplicates and nothing rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app import keys
from app.config import Settings
from app.redis import redis_client
from app.tokens import Principal
from models import Ballot, Poll
from tests.burst import backlog, cast, db_ballots, drained, make_voters, redis_ballots
from tests.conftest import LiveServer, WorkerProcess, metric, unique_name
from tests.sync_redis import SyncRedis
from tests.test_polls import create, vote
from workers.outbox import Entry, OutboxDrainer, ack, command_batch, parse_entry, persist
from workers.upsert import BallotRow

Ballots = list[tuple[Principal, list[int]]]


def burst(voters: list[Principal], opts: list[int]) -> Ballots:
    """One ballot each, single and double choices mixed."""
    return [
        (p, [opts[i % 3], opts[(i + 1) % 3]] if i % 3 == 0 else [opts[i % 3]])
        for i, p in enumerate(voters)
    ]


def changes(voters: list[Principal], opts: list[int]) -> Ballots:
    return [(p, [opts[(i + 2) % 3]]) for i, p in enumerate(voters)]


async def assert_exact(poll_id: int, acked: dict[int, str], redis: SyncRedis) -> None:
    assert await db_ballots(poll_id) == acked == redis_ballots(redis, poll_id)
    assert await Ballot.filter(poll_id=poll_id).count() == len(acked)


def test_an_entry_parses_in_any_field_order_and_a_broken_one_is_skipped() -> None:
    row = BallotRow(poll_id=7, user_id=12, option_ids="3,5", seq=9, at_ms=1000)
    as_written = ["u", "12", "b", "3,5", "s", "9", "t", "1000"]
    reordered = ["t", "1000", "s", "9", "u", "12", "b", "3,5"]
    assert parse_entry(7, "st", "1-0", as_written).row == row
    assert parse_entry(7, "st", "1-0", reordered).row == row
    for broken in (
        ["u", "12", "b", "3,5", "s", "9"],  # no time
        ["u", "12", "b", "3;5", "s", "9", "t", "1000"],  # not a ballot
        ["u", "x", "b", "3,5", "s", "9", "t", "1000"],
        ["u", "12", "b", "3,5", "s", "9", "t"],  # odd
        None,  # deleted while pending
    ):
        assert parse_entry(7, "st", "1-0", broken) == ("st", "1-0", None), broken


async def test_acking_trims_only_entries_no_consumer_still_needs(
    redis: SyncRedis, redis_url: str, settings: Settings
) -> None:
    """ack.lua drops committed entries, never one still pending on another consumer
    nor one not yet delivered, whatever order the consumers ack in."""
    stream = f"{{p:0}}:outbox-{unique_name()}"
    redis.delete(stream)
    redis.xgroup_create(stream, keys.OUTBOX_GROUP, id="0", mkstream=True)
    ids = [redis.xadd(stream, {"u": i, "b": "1", "s": i, "t": 1000}) for i in range(12)]

    def read(consumer: str, n: int) -> list[Any]:
        reply = redis.xreadgroup(keys.OUTBOX_GROUP, consumer, {stream: ">"}, count=n)
        return [Entry(stream, entry_id, None) for entry_id, _ in reply[0][1]]

    def left() -> list[str]:
        return [entry_id for entry_id, _ in redis.xrange(stream)]

    client = redis_client(redis_url)
    commands = command_batch(client, settings)
    try:
        a1, b, a2 = read("a", 3), read("b", 3), read("a", 3)  # 9 delivered, 3 not
        await ack(commands, b)  # a's first three are older and still pending
        assert left() == ids
        await ack(commands, a1)  # now a2 is the oldest pending: up to it all committed
        assert left() == ids[6:]
        claimed = redis.xautoclaim(stream, keys.OUTBOX_GROUP, "c", 0, "0-0")[1]
        assert [entry_id for entry_id, fields in claimed if fields] == ids[6:9]
        await ack(commands, a2)  # nothing pending: everything delivered goes
        assert left() == ids[9:]
        await ack(commands, read("b", 10))
        assert left() == [] and redis.xpending(stream, keys.OUTBOX_GROUP)["pending"] == 0
        redis.xadd(stream, {"u": 99, "b": "1", "s": 99, "t": 1000})
        await ack(commands, [])  # an empty batch acks nothing and trims nothing
        assert len(left()) == 1
    finally:
        await commands.aclose()
        await client.aclose()
        redis.delete(stream)


async def test_drainer_writes_batches_and_skips_what_cannot_be_written(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    settings: Settings,
) -> None:
    owner = await make_person()
    kept = await create(client, owner, kind="multiple", allow_change=True)
    gone = await create(client, owner, kind="multiple")
    k_opts = [o["id"] for o in kept["options"]]
    g_opts = [o["id"] for o in gone["options"]]
    voters = await make_voters(2500)
    engine = live_server.app.ctx.votes
    acked = await cast(engine, kept["id"], burst(voters, k_opts))
    acked |= await cast(engine, kept["id"], changes(voters[::4], k_opts))
    await cast(engine, gone["id"], burst(voters[:700], g_opts))
    # A poll deleted from the database while its ballots wait in Redis, and an entry
    # that is not a ballot at all: neither may wedge the drain.
    await Poll.filter(id=gone["id"]).delete()
    redis.xadd(keys.outbox(kept["id"]), {"u": "x", "b": "1;--", "s": "1", "t": "0"})

    drainer = OutboxDrainer(
        live_server.app.ctx.redis.client, settings.model_copy(update={"outbox_batch": 1000})
    )
    drainer.start()
    try:
        await drained(redis, kept["id"])
        await drained(redis, gone["id"])
    finally:
        await drainer.stop()
    await assert_exact(kept["id"], acked, redis)
    assert not await Ballot.filter(poll_id=gone["id"]).exists()


async def test_a_batch_is_bounded_over_all_streams_and_filled_from_the_busy_one(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    settings: Settings,
) -> None:
    """XREADGROUP's COUNT is per stream: one read of 200 a stream would take 260 here.
    A batch takes every quiet poll's few entries and fills up from the busy poll."""
    owner = await make_person()
    busy, *quiet = [await create(client, owner) for _ in range(4)]
    voters = await make_voters(600)
    engine = live_server.app.ctx.votes
    acked: dict[int, dict[int, str]] = {}
    for poll, who in ((busy, voters), *((q, voters[:20]) for q in quiet)):
        opts = [o["id"] for o in poll["options"]]
        ballots = [(p, [opts[i % 3]]) for i, p in enumerate(who)]
        acked[poll["id"]] = await cast(engine, poll["id"], ballots)
    ours = {keys.outbox(p["id"]): p["id"] for p in (busy, *quiet)}
    drainer = OutboxDrainer(
        live_server.app.ctx.redis.client, settings.model_copy(update={"outbox_batch": 200})
    )
    await drainer.refresh()
    batches: list[list[Entry]] = []
    try:
        while any(backlog(redis, poll_id) != (0, 0) for poll_id in ours.values()):
            assert len(batches) < 10, "the drain does not progress"
            batch = await drainer.read_batch()
            assert len(batch) <= 200
            batches.append([e for e in batch if e.stream in ours])
            await persist(
                drainer.redis,
                drainer.commands,
                batch,
                consumer=drainer.consumer,
                settings=drainer.settings,
            )
    finally:
        await drainer.commands.aclose()
    first = Counter(ours[e.stream] for e in batches[0])
    assert first == {busy["id"]: 140, **{q["id"]: 20 for q in quiet}}
    assert [len(b) for b in batches] == [200, 200, 200, 60]
    ids = [(e.stream, e.id) for b in batches for e in b]
    assert len(ids) == len(set(ids)) == 660
    for poll_id in ours.values():
        await assert_exact(poll_id, acked[poll_id], redis)


async def test_a_trickle_of_votes_is_written_in_batches(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    settings: Settings,
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple")
    opts = [o["id"] for o in poll["options"]]
    voters = await make_voters(40)
    engine = live_server.app.ctx.votes
    drainer = OutboxDrainer(
        live_server.app.ctx.redis.client, settings.model_copy(update={"outbox_linger_ms": 400})
    )
    writes_before = await metric(client, "livepolls_outbox_batch_rows_count")
    acked: dict[int, str] = {}
    drainer.start()
    try:
        for ballot in burst(voters, opts):  # one vote every ~20 ms
            acked |= await cast(engine, poll["id"], [ballot])
            await asyncio.sleep(0.02)
        await drained(redis, poll["id"])
    finally:
        await drainer.stop()
    writes = await metric(client, "livepolls_outbox_batch_rows_count") - writes_before
    await assert_exact(poll["id"], acked, redis)
    # Without the linger every vote is its own read and transaction (40 writes); with
    # it, one write per 400 ms of trickle, even if this machine stretches the 0.8 s.
    assert 2 <= writes <= 10


async def _hold_then_kill(
    redis: SyncRedis, victim: WorkerProcess, poll_id: int, busy: asyncio.Task[Any]
) -> list[str]:
    """SIGSTOP the worker at a moment it holds unacked entries, then SIGKILL it; return
    the ids it held. Retries (SIGCONT) when it acked just before the stop."""
    import signal

    stream = keys.outbox(poll_id)
    while True:
        mine = redis.xpending_range(stream, keys.OUTBOX_GROUP, "-", "+", 10_000, victim.consumer)
        if mine:
            victim.pause()
            # Let Redis finish whatever the worker sent before it stopped (an XACK may
            # still be in flight); what is pending after that stays pending.
            await asyncio.sleep(0.1)
            held = redis.xpending_range(
                stream, keys.OUTBOX_GROUP, "-", "+", 10_000, victim.consumer
            )
            if held:
                victim.kill()
                return [h["message_id"] for h in held]
            victim.proc.send_signal(signal.SIGCONT)
        if busy.done() and backlog(redis, poll_id) == (0, 0):
            raise AssertionError("the worker drained everything before it could be caught")
        await asyncio.sleep(0.002)


@pytest.mark.multiprocess
async def test_a_worker_killed_mid_burst_loses_nothing(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    poll_id, opts = poll["id"], [o["id"] for o in poll["options"]]
    voters = await make_voters(20_000)
    engine = live_server.app.ctx.votes
    first = worker(process=True, outbox_claim_idle_ms=1000, outbox_batch=500)
    await first.started()

    ballots = burst(voters, opts)
    casting = asyncio.create_task(cast(engine, poll_id, ballots[:10_000]))
    held = await _hold_then_kill(redis, first, poll_id, casting)
    acked = await casting
    acked |= await cast(engine, poll_id, ballots[10_000:])
    # The voters whose entries died with the worker change their minds before anyone
    # reclaims the old entries: replaying those later must not roll the change back.
    stream = keys.outbox(poll_id)
    held_users = {int(redis.xrange(stream, i, i)[0][1]["u"]) for i in held[:500]}
    movers = [p for p in voters if p.user_id in held_users]
    acked |= await cast(engine, poll_id, changes(movers, opts))

    second = worker(process=True, outbox_claim_idle_ms=1000, outbox_batch=500)
    await drained(redis, poll_id, within_s=90)
    await assert_exact(poll_id, acked, redis)
    assert len(acked) == 20_000 and movers
    assert "reclaimed" in second.output()


@pytest.mark.multiprocess
async def test_two_workers_drain_one_burst_exactly(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    poll_id, opts = poll["id"], [o["id"] for o in poll["options"]]
    voters = await make_voters(10_000)
    workers = [worker(process=True, outbox_batch=300) for _ in range(2)]
    for w in workers:
        await w.started()
    engine = live_server.app.ctx.votes
    acked = await cast(engine, poll_id, burst(voters, opts))
    # Changes race their own first ballots through the two workers.
    acked |= await cast(engine, poll_id, changes(voters[::2], opts))
    acked |= await cast(engine, poll_id, burst(voters[::5], opts))
    await drained(redis, poll_id, within_s=90)
    await assert_exact(poll_id, acked, redis)
    assert all(w.alive() for w in workers)


class TcpProxy:
    """A TCP relay to the database that the test can cut: every open connection is
    dropped and new ones are refused until it is restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def close(self) -> None:
        if self._server is not None and self._server.is_serving():
            await self.cut()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.transport.abort()
        self._writers.discard(dst)


@contextlib.asynccontextmanager
async def database_outage(settings: Settings) -> Any:
    """Yields (worker environment overrides, cut, restore) for a real database fault:
    MySQL through a proxy the test cuts; SQLite locked by another connection holding
    an exclusive transaction."""
    if settings.is_mysql:
        parts = urlsplit(settings.database_url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306)
        await proxy.start()
        user, at, _ = parts.netloc.rpartition("@")
        via = urlunsplit(parts._replace(netloc=f"{user}{at}127.0.0.1:{proxy.port}"))

        async def cut() -> None:
            await proxy.cut()

        async def restore() -> None:
            await proxy.start()

        try:
            yield {"database_url": via}, cut, restore
        finally:
            await proxy.close()
        return

    path = settings.database_url.removeprefix("sqlite://")
    lock = sqlite3.connect(path, isolation_level=None, timeout=30)

    async def cut_sqlite() -> None:
        lock.execute("BEGIN EXCLUSIVE")

    async def restore_sqlite() -> None:
        lock.execute("COMMIT")

    try:
        yield {}, cut_sqlite, restore_sqlite
    finally:
        lock.close()


@pytest.mark.multiprocess
async def test_database_away_for_ten_seconds_loses_nothing(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    redis: SyncRedis,
    worker: Any,
    settings: Settings,
) -> None:
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2, allow_change=True)
    poll_id, opts = poll["id"], [o["id"] for o in poll["options"]]
    voters = await make_voters(4000)
    engine = live_server.app.ctx.votes
    cut: Callable[[], Awaitable[None]]
    restore: Callable[[], Awaitable[None]]
    async with database_outage(settings) as (env, cut, restore):
        w = worker(process=True, outbox_retry_max_s=1, **env)
        await w.started()
        acked = await cast(engine, poll_id, burst(voters[:1000], opts))
        await drained(redis, poll_id)

        await cut()
        outage_ends = time.monotonic() + 10
        # Voting goes on in Redis while the database is away.
        acked |= await cast(engine, poll_id, burst(voters[1000:], opts))
        acked |= await cast(engine, poll_id, changes(voters[::3], opts))
        await asyncio.sleep(max(0.0, outage_ends - time.monotonic()))
        assert backlog(redis, poll_id)[0] > 0  # nothing of it could be written
        assert w.alive()
        await restore()

        await drained(redis, poll_id, within_s=60)
    await assert_exact(poll_id, acked, redis)
    assert w.alive()
    log = w.output()
    assert "failed" in log and "recovered" in log


@pytest.mark.multiprocess
async def test_a_worker_process_exposes_its_own_metrics(
    client: httpx.AsyncClient,
    make_person: Any,
    live_server: LiveServer,
    worker: Any,
    redis: SyncRedis,
) -> None:
    from tests.conftest import free_port

    port = free_port()
    process = worker(process=True, worker_metrics_port=port)
    await process.started()
    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner)
    assert (await vote(client, voter, poll, 0)).json()["status"] == "accepted"
    await drained(redis, poll["id"])
    text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    persisted = [
        line for line in text.splitlines() if line.startswith("livepolls_outbox_persisted_total ")
    ]
    assert persisted and float(persisted[0].split()[1]) >= 1, text[-2000:]


def _niceness(pid: int) -> int:
    # /proc/<pid>/stat: the command name may hold spaces; field 19 (nice) follows it.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


async def test_a_worker_process_yields_the_cpu_to_web_processes(
    live_server: LiveServer,
    worker: Any,
    redis: SyncRedis,
    client: httpx.AsyncClient,
    make_person: Any,
) -> None:
    default, custom = worker(process=True), worker(process=True, worker_nice=3)
    await default.started()
    await custom.started()
    assert (_niceness(default.proc.pid), _niceness(custom.proc.pid)) == (10, 3)
    # Still a worker like any other: the ballot reaches the database.
    owner, voter = await make_person(), await make_person()
    poll = await create(client, owner)
    assert (await vote(client, voter, poll, 0)).json()["status"] == "accepted"
    await drained(redis, poll["id"])
    assert await Ballot.filter(poll_id=poll["id"]).count() == 1
