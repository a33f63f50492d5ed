"""The load generator: several processes, each one uvloop loop holding many sockets.

The parent (`GenPool`) spawns `procs` processes and drives them phase by phase over
a pipe: connect sockets (optionally joined to a room), run an open-loop vote
schedule, wait for members to reach a seq, hold idle sockets, reconnect in a
storm, pause readers. Every call goes to all processes at once and returns one
report per process; the parent merges them.

Open loop: vote g (over all processes) is scheduled at t0 + g/rate on the shared
CLOCK_MONOTONIC; process p sends the g with g % procs == p. A process sends every
vote whose time has come, then sleeps until the next one. Latency is measured
from the scheduled time, so a server (or generator) that falls behind shows its
queueing in the figures instead of slowing the offered load (no coordinated
omission). How late the generator itself sent is reported as `send_lag`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import random
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Literal, TypeVar, cast

import orjson
import uvloop

from bench.api import PollRef
from bench.stats import Histogram
from bench.wsclient import HandshakeError, WsClient, open_client

# distinct: each vote a new voter (a socket votes once per poll, polls in turn);
# change: every socket votes again and again in polls[0], changing its ballot each time;
# room: like change, but each socket in the room it joined at connect (many rooms at once).
VoteMode = Literal["distinct", "change", "room"]
JOIN_REF = "j"


# ---- phase specifications and reports (picklable) -----------------------------------


@dataclass(slots=True)
class ConnectSpec:
    host: str
    port: int
    users: list[tuple[int, str]]  # (user id, token), one socket each
    join_polls: list[int] = field(default_factory=list)  # user i joins join_polls[i % len]
    join_session: int | None = None  # every user joins this session (JOIN_SESSION)
    concurrency: int = 100
    timeout_s: float = 15.0
    retries: int = 3
    sample: int = 0  # how many of this process's members log every RESULTS they get


@dataclass(slots=True)
class ConnectReport:
    opened: int = 0
    joined: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    seconds: float = 0.0
    latency: Histogram = field(default_factory=Histogram)  # connect (+ join), µs


@dataclass(slots=True)
class VoteSpec:
    t0: float  # CLOCK_MONOTONIC of global vote 0
    rate: float  # votes/s over all processes
    warmup_s: float
    duration_s: float
    polls: list[PollRef]
    mode: VoteMode = "distinct"
    drain_s: float = 30.0
    seed: int = 1
    keep_votes: bool = False  # return (scheduled time, seq) of every counted vote
    keep_acks: bool = False  # return (poll id, ack time) of every accepted vote


@dataclass(slots=True)
class VoteReport:
    planned: int = 0
    sent: int = 0
    not_open: int = 0  # scheduled on a socket that was gone
    statuses: dict[str, int] = field(default_factory=dict)  # accepted/changed/.../error:<code>
    unacked: int = 0
    measured: int = 0  # votes scheduled in the measured window
    measured_ok: int = 0
    in_window_acks: int = 0  # successful acks received inside the measured window
    latency: Histogram = field(default_factory=Histogram)  # ack latency, measured window, µs
    send_lag: Histogram = field(default_factory=Histogram)  # send time - scheduled, µs
    last_ack: float = 0.0
    max_seq: dict[int, int] = field(default_factory=dict)
    # (scheduled, poll id, seq) of every counted vote, if kept
    votes: list[tuple[float, int, int]] = field(default_factory=list)
    acks: list[tuple[int, float]] = field(default_factory=list)  # (poll id, ack time) if kept
    cpu_s: float = 0.0  # this process's CPU while sending and waiting for the acks
    anomalies: dict[str, int] = field(default_factory=dict)  # unexpected messages so far
    samples: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SeqReport:
    members: int = 0
    reached: int = 0
    seconds: float = 0.0  # until the last member reached it (or the timeout)
    frames: int = 0  # RESULTS frames received by members since the last reset


@dataclass(slots=True)
class FanoutReport:
    latency: Histogram = field(default_factory=Histogram)  # vote scheduled -> member saw it, µs
    pairs_missing: int = 0  # (vote, sampled member) pairs the member never saw
    members_sampled: int = 0


@dataclass(slots=True)
class ShownReport:
    members: int = 0
    times: list[float] = field(default_factory=list)  # CLOCK_MONOTONIC, one per member


@dataclass(slots=True)
class HoldReport:
    open: int = 0
    drops: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)
    pings: int = 0


@dataclass(slots=True)
class StormSpec:
    join_poll: int
    jitter_s: float = 1.0
    timeout_s: float = 60.0
    seed: int = 1
    concurrency: int = 1000


@dataclass(slots=True)
class StormReport:
    clients: int = 0
    back: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)  # own reconnect time -> JOINED, µs
    all_back_s: float = 0.0  # storm start -> last JOINED of this process

    @property
    def retries(self) -> int:
        return sum(self.retry_reasons.values())


@dataclass(slots=True)
class Tally:
    """Distinct accepted ballots of this process's users, from their latest acks."""

    voters: dict[int, int] = field(default_factory=dict)  # poll id -> users
    counts: dict[int, dict[str, int]] = field(default_factory=dict)  # poll -> field -> n


# ---- the worker process ---------------------------------------------------------------


class Gen:
    """The state of one generator process."""

    def __init__(self, proc: int, procs: int) -> None:
        self.proc, self.procs = proc, procs
        self.clients: list[WsClient] = []
        self.drops = 0
        self.close_codes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()  # unexpected messages, by kind
        self.samples: list[str] = []  # the first few of them
        # open vote schedule state
        self.ack_t: list[float] = []
        self.ack_seq: list[int] = []
        self.ack_status: list[str | None] = []
        self.pending = 0
        self.all_sent = False
        self.drained: asyncio.Event = asyncio.Event()
        # latest acked ballot per (poll, user): (seq, the counts fields it marks)
        self.final: dict[tuple[int, int], tuple[int, tuple[str, ...]]] = {}
        self.ref_base = (
            0  # refs of a schedule are ref_base + k: late replies of an earlier one are strays
        )

    # message handling ------------------------------------------------------------------

    def on_message(self, client: WsClient, payload: bytes, now: float) -> None:
        # an exception here would make the event loop drop the socket: count it instead
        try:
            self._message(client, payload, now)
        except Exception as exc:
            key = f"bad_message:{type(exc).__name__}"
            self.errors[key] += 1
            if self.errors[key] <= 3:
                self.samples.append(payload[:300].decode(errors="replace"))

    def _message(self, client: WsClient, payload: bytes, now: float) -> None:
        msg = orjson.loads(payload)
        kind = msg["type"]
        if kind == "VOTE_ACK":
            self._answer(int(msg["ref"]) - self.ref_base, now, str(msg["status"]), int(msg["seq"]))
        elif kind == "RESULTS":
            client.frames += 1
            if msg["counts"] is not None:
                client.counts_seen.setdefault(int(msg["poll_id"]), now)
            seq = msg["seq"]
            if seq > client.seq:
                client.seq = seq
                if client.log is not None:
                    client.log.append((now, seq))
        elif kind == "ERROR":
            ref = msg.get("ref")
            code = str(msg.get("code"))
            if ref == JOIN_REF and client.join_waiter is not None:
                if not client.join_waiter.done():
                    client.join_waiter.set_exception(RuntimeError(f"JOIN_POLL: {code}"))
            elif isinstance(ref, str) and ref.isdigit():
                self._answer(int(ref) - self.ref_base, now, "error:" + code, -1)
            else:
                self.errors["unsolicited:" + code] += 1
        elif kind == "JOINED":
            results = msg.get("results") or {}
            seq = int(results.get("seq", 0))
            if seq > client.seq:
                client.seq = seq
            if client.join_waiter is not None and not client.join_waiter.done():
                client.join_waiter.set_result(seq)
        elif kind == "POLL_UPDATED":
            results = msg.get("results") or {}
            if results.get("counts") is not None:
                client.counts_seen.setdefault(int(msg["poll"]["id"]), now)
            seq = int(results.get("seq", -1))
            if seq > client.seq:
                client.seq = seq
        elif kind == "SESSION_STATE":
            poll, results = msg["poll"], msg["results"]
            if poll is not None:
                client.shown.setdefault(int(poll["id"]), now)
                client.room = int(poll["id"])
            if results is not None and results["counts"] is not None:
                client.counts_seen.setdefault(int(results["poll_id"]), now)
            waiter = client.join_waiter
            if msg["ref"] == JOIN_REF and waiter is not None and not waiter.done():
                waiter.set_result(int((results or {}).get("seq", 0)))

    def _answer(self, k: int, now: float, status: str, seq: int) -> None:
        if not 0 <= k < len(self.ack_t) or self.ack_t[k]:
            self.errors["stray_reply"] += 1
            return
        self.ack_t[k] = now
        self.ack_seq[k] = seq
        self.ack_status[k] = status
        self.pending -= 1
        if self.all_sent and self.pending <= 0:
            self.drained.set()

    def on_drop(self, client: WsClient) -> None:
        self.drops += 1
        self.close_codes[str(client.close_code or "abnormal")] += 1
        if client.join_waiter is not None and not client.join_waiter.done():
            client.join_waiter.set_exception(ConnectionError("dropped before JOINED"))

    # phases ------------------------------------------------------------------------------

    async def _open(
        self,
        host: str,
        port: int,
        user: tuple[int, str],
        join_poll: int | None,
        timeout_s: float,
        join_session: int | None = None,
    ) -> WsClient:
        client = await open_client(
            host,
            port,
            user[1],
            timeout_s=timeout_s,
            on_message=self.on_message,
            on_drop=self.on_drop,
        )
        client.user_id = user[0]
        client.room = join_poll or 0
        if join_poll is not None or join_session is not None:
            client.join_waiter = asyncio.get_running_loop().create_future()
            if join_session is not None:
                client.send_text(
                    b'{"type":"JOIN_SESSION","session_id":%d,"ref":"j"}' % join_session
                )
            else:
                assert join_poll is not None
                client.send_text(b'{"type":"JOIN_POLL","poll_id":%d,"ref":"j"}' % join_poll)
            try:
                await asyncio.wait_for(client.join_waiter, timeout_s)
            except BaseException:
                client.abort()
                raise
        return client

    async def connect(self, spec: ConnectSpec) -> ConnectReport:
        report = ConnectReport()
        sem = asyncio.Semaphore(spec.concurrency)
        started = time.monotonic()
        slots: list[WsClient | None] = [None] * len(spec.users)

        async def one(i: int, user: tuple[int, str]) -> None:
            async with sem:
                for attempt in range(spec.retries + 1):
                    t = time.monotonic()
                    try:
                        room = (
                            spec.join_polls[i % len(spec.join_polls)] if spec.join_polls else None
                        )
                        slots[i] = await self._open(
                            spec.host, spec.port, user, room, spec.timeout_s, spec.join_session
                        )
                    except (OSError, TimeoutError, HandshakeError, RuntimeError) as exc:
                        reason = _reason(exc)
                        if attempt == spec.retries:
                            report.failed[reason] = report.failed.get(reason, 0) + 1
                            return
                        report.retries += 1
                        await asyncio.sleep(0.25 * (attempt + 1))
                        continue
                    report.latency.record((time.monotonic() - t) * 1e6)
                    return

        await asyncio.gather(*(one(i, u) for i, u in enumerate(spec.users)))
        for client in slots:
            if client is not None:
                client.index = len(self.clients)
                self.clients.append(client)
        report.opened = sum(1 for c in slots if c is not None)
        report.joined = report.opened if spec.join_polls or spec.join_session else 0
        if spec.sample > 0:
            self._sample(spec.sample)
        report.seconds = time.monotonic() - started
        return report

    async def set_sample(self, n: int) -> None:
        self._sample(n)

    def _sample(self, n: int) -> None:
        """Log RESULTS for n members spread evenly over this process's sockets."""
        members = [c for c in self.clients if not c.slow]
        step = max(1, len(members) // max(1, n))
        for i, c in enumerate(members):
            c.log = [] if i % step == 0 and i // step < n else None

    async def reset(self) -> int:
        """Forget counters and logs (not the sockets); returns open sockets."""
        for c in self.clients:
            c.frames = 0
            if c.log is not None:
                c.log = []
        self.errors.clear()
        self.samples.clear()
        return sum(1 for c in self.clients if c.is_open)

    async def votes(self, spec: VoteSpec) -> VoteReport:
        clients = [c for c in self.clients if not c.slow]
        n = len(clients)
        if n == 0:
            raise RuntimeError("no sockets to vote with")
        rate, procs, proc, t0 = spec.rate, self.procs, self.proc, spec.t0
        total = round(rate * (spec.warmup_s + spec.duration_s))
        mine = len(range(proc, total, procs))
        rng = random.Random(spec.seed * 1000 + proc)
        self.ack_t = [0.0] * mine
        self.ack_seq = [-1] * mine
        self.ack_status = [None] * mine
        sent_t = [0.0] * mine
        self.pending = 0
        self.all_sent = False
        self.drained = asyncio.Event()
        self.ref_base += 1_000_000_000
        base = self.ref_base
        polls = spec.polls
        if spec.mode == "distinct" and len(polls) * n < mine:
            raise RuntimeError(f"{len(polls)} polls x {n} sockets < {mine} distinct votes")
        by_id = {p.id: p for p in polls}
        if spec.mode == "room" and any(c.room not in by_id for c in clients):
            raise RuntimeError("room mode: every socket must have joined one of the polls")
        last_ballot: dict[int, int] = {}  # client index -> option position (change mode)
        frames: list[bytes] = []
        meta: list[tuple[int, int, tuple[str, ...]]] = []
        for k in range(mine):
            c = clients[k % n]
            if spec.mode == "distinct":
                poll = polls[k // n]
                pos = rng.randrange(len(poll.option_ids))
            else:
                poll = by_id[c.room] if spec.mode == "room" else polls[0]
                prev = last_ballot.get(k % n)
                nopt = len(poll.option_ids)
                pos = (
                    rng.randrange(nopt) if prev is None else (prev + rng.randrange(1, nopt)) % nopt
                )
                last_ballot[k % n] = pos
            ballot, fields = poll.ballot(pos)
            frames.append(
                c.frame(b'{"type":"VOTE","poll_id":%d,%s,"ref":"%d"}' % (poll.id, ballot, base + k))
            )
            meta.append((poll.id, c.user_id, fields))
        report = VoteReport(planned=mine)

        # No cyclic GC while the clock runs: a full collection over the sockets, the
        # frames and the tallies of earlier steps stalls the loop for tens of ms, which
        # would read as server latency. Collected once the acks are in.
        gc.collect()
        gc.freeze()
        gc.disable()
        cpu = time.process_time()
        try:
            await self._send(spec, clients, frames, sent_t, report)
            self.all_sent = True
            if self.pending > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.drained.wait(), spec.drain_s)
        finally:
            report.cpu_s = time.process_time() - cpu
            gc.enable()
            gc.unfreeze()

        measured_from = t0 + spec.warmup_s
        measured_to = measured_from + spec.duration_s
        statuses: Counter[str] = Counter()
        for k in range(mine):
            sched = t0 + (proc + k * procs) / rate
            status = self.ack_status[k]
            ack = self.ack_t[k]
            if status is None:
                if sent_t[k]:
                    report.unacked += 1
                    statuses["no_reply"] += 1
                continue
            statuses[status] += 1
            ok = status in ("accepted", "changed", "unchanged")
            if ok:
                report.last_ack = max(report.last_ack, ack)
                if measured_from <= ack < measured_to:
                    report.in_window_acks += 1
                poll_id, user_id, marks = meta[k]
                seq = self.ack_seq[k]
                if seq > report.max_seq.get(poll_id, -1):
                    report.max_seq[poll_id] = seq
                if status != "unchanged":
                    key = (poll_id, user_id)
                    latest = self.final.get(key)
                    if latest is None or latest[0] < seq:
                        self.final[key] = (seq, marks)
                    if spec.keep_votes:
                        report.votes.append((sched, poll_id, seq))
                    if spec.keep_acks and status == "accepted":
                        report.acks.append((poll_id, ack))
            if sched >= measured_from:
                report.measured += 1
                if sent_t[k]:
                    report.send_lag.record((sent_t[k] - sched) * 1e6)
                if ok:
                    report.measured_ok += 1
                    report.latency.record((ack - sched) * 1e6)
        report.statuses = dict(statuses)
        report.anomalies = dict(self.errors)
        report.samples = list(self.samples)
        return report

    async def _send(
        self,
        spec: VoteSpec,
        clients: list[WsClient],
        frames: list[bytes],
        sent_t: list[float],
        report: VoteReport,
    ) -> None:
        """Send vote k at t0 + (proc + k * procs) / rate, open loop."""
        n = len(clients)
        rate, procs, proc, t0 = spec.rate, self.procs, self.proc, spec.t0
        mine = len(frames)
        k = 0
        loop_sleep = asyncio.sleep
        monotonic = time.monotonic
        while k < mine:
            now = monotonic()
            due = t0 + (proc + k * procs) / rate
            if due > now:
                # timers tick in whole milliseconds: sleeping less would spin the CPU that
                # the server needs; the votes due meanwhile go out together on waking
                await loop_sleep(max(due - now, 0.001))
                continue
            burst = 0
            while k < mine and t0 + (proc + k * procs) / rate <= now and burst < 256:
                if clients[k % n].send_frame(frames[k]):
                    sent_t[k] = now
                    self.pending += 1
                    report.sent += 1
                else:
                    self.ack_status[k] = "not_open"
                    report.not_open += 1
                k += 1
                burst += 1
            if burst >= 256:
                await loop_sleep(0)  # let the acks in when far behind

    async def wait_seq(self, seqs: dict[int, int], timeout_s: float) -> SeqReport:
        """Wait until every healthy member has seen a results seq >= its room's final
        seq (`seqs`: poll id -> seq; a member of a room not in it waits for nothing)."""
        members = [c for c in self.clients if not c.slow and c.is_open]
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            behind = sum(1 for c in members if c.seq < seqs.get(c.room, -1))
            if behind == 0 or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.01)
        return SeqReport(
            members=len(members),
            reached=len(members) - behind,
            seconds=time.monotonic() - started,
            frames=sum(c.frames for c in self.clients),
        )

    async def fanout_latency(
        self, votes: list[tuple[float, int, int]], window: tuple[float, float]
    ) -> FanoutReport:
        """For each sampled member and each vote in its room scheduled inside window: the
        time from the vote's scheduled send to the member's first RESULTS with seq >= the
        vote's seq."""
        report = FanoutReport()
        counted: dict[int, list[tuple[int, float]]] = {}
        for sched, poll, seq in votes:
            if window[0] <= sched < window[1]:
                counted.setdefault(poll, []).append((seq, sched))
        for room_votes in counted.values():
            room_votes.sort()
        for c in self.clients:
            log = c.log
            if log is None or c.slow:
                continue
            report.members_sampled += 1
            i = 0
            n = len(log)
            for seq, sched in counted.get(c.room, []):
                while i < n and log[i][1] < seq:
                    i += 1
                if i == n:
                    report.pairs_missing += 1
                else:
                    report.latency.record((log[i][0] - sched) * 1e6)
        return report

    async def wait_shown(self, poll_id: int, counts: bool, timeout_s: float) -> ShownReport:
        """Wait until every open member was shown the poll by its session (or, `counts`,
        saw its counts); returns when each did."""
        members = [c for c in self.clients if c.is_open]
        deadline = time.monotonic() + timeout_s

        def seen(c: WsClient) -> dict[int, float]:
            return c.counts_seen if counts else c.shown

        while True:
            if all(poll_id in seen(c) for c in members) or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.005)
        return ShownReport(
            members=len(members),
            times=[seen(c)[poll_id] for c in members if poll_id in seen(c)],
        )

    async def forget_counts(self, poll_id: int) -> int:
        """Before a reveal: forget that members saw the poll's counts; returns how many
        had seen them (a hidden poll's: a leak)."""
        had = sum(1 for c in self.clients if poll_id in c.counts_seen)
        for c in self.clients:
            c.counts_seen.pop(poll_id, None)
        return had

    async def tally(self) -> Tally:
        out = Tally()
        for (poll, _user), (_seq, ballot) in self.final.items():
            out.voters[poll] = out.voters.get(poll, 0) + 1
            counts = out.counts.setdefault(poll, {})
            for opt in ballot:
                counts[opt] = counts.get(opt, 0) + 1
        return out

    async def hold(self, seconds: float) -> HoldReport:
        drops_before = self.drops
        await asyncio.sleep(seconds)
        return HoldReport(
            open=sum(1 for c in self.clients if c.is_open),
            drops=self.drops - drops_before,
            close_codes=dict(self.close_codes),
            pings=sum(c.pings for c in self.clients),
        )

    async def pause(self, count: int) -> int:
        """Stop reading on `count` members spread over this process (slow consumers)."""
        members = [c for c in self.clients if c.is_open]
        step = max(1, len(members) // max(1, count))
        paused = 0
        for i, c in enumerate(members):
            if paused < count and i % step == step // 2:
                c.slow = True
                c.log = None
                c.pause_reading()
                paused += 1
        return paused

    async def resume(self, settle_s: float) -> HoldReport:
        """Read again on paused members; report how many of them the server dropped."""
        slow = [c for c in self.clients if c.slow]
        for c in slow:
            c.resume_reading()
        await asyncio.sleep(settle_s)
        codes: Counter[str] = Counter(
            str(c.close_code or "abnormal") for c in slow if not c.is_open
        )
        return HoldReport(
            open=sum(1 for c in slow if c.is_open),
            drops=sum(1 for c in slow if not c.is_open),
            close_codes=dict(codes),
        )

    async def storm(self, spec: StormSpec, host: str, port: int) -> StormReport:
        """Close every socket, then reconnect each one at a random moment within the
        jitter, retrying with backoff, and join again; time each client to JOINED."""
        old = [c for c in self.clients if c.is_open]
        users = [(c.user_id, c.token) for c in old]
        for c in old:
            c.close()
        await asyncio.sleep(0.5)
        self.clients = []
        rng = random.Random(spec.seed * 1000 + self.proc)
        report = StormReport(clients=len(users))
        sem = asyncio.Semaphore(spec.concurrency)
        start = time.monotonic()
        deadline = start + spec.timeout_s
        last = [start]

        async def one(user: tuple[int, str], at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            backoff = 0.2
            while True:
                try:
                    async with sem:
                        client = await self._open(host, port, user, spec.join_poll, 10.0)
                except (OSError, TimeoutError, HandshakeError, RuntimeError) as exc:
                    reason = _reason(exc)
                    if time.monotonic() + backoff >= deadline:
                        report.failures[reason] = report.failures.get(reason, 0) + 1
                        return
                    report.retry_reasons[reason] = report.retry_reasons.get(reason, 0) + 1
                    await asyncio.sleep(backoff * (0.5 + rng.random()))
                    backoff = min(backoff * 2, 2.0)
                    continue
                now = time.monotonic()
                report.latency.record((now - at) * 1e6)
                last[0] = max(last[0], now)
                client.index = len(self.clients)
                self.clients.append(client)
                report.back += 1
                return

        await asyncio.gather(*(one(u, start + rng.uniform(0, spec.jitter_s)) for u in users))
        report.all_back_s = last[0] - start
        return report

    async def close_all(self) -> HoldReport:
        report = HoldReport(
            open=sum(1 for c in self.clients if c.is_open),
            drops=self.drops,
            close_codes=dict(self.close_codes),
            pings=sum(c.pings for c in self.clients),
        )
        for c in self.clients:
            c.close()
        if self.clients:
            await asyncio.wait([asyncio.ensure_future(c.closed) for c in self.clients], timeout=5.0)
        for c in self.clients:
            c.abort()
        self.clients = []
        self.final.clear()
        return report


def _reason(exc: BaseException) -> str:
    if isinstance(exc, HandshakeError):
        return f"http_{exc.status}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, OSError):
        return f"oserror_{exc.errno}"
    return str(exc)[:60] or type(exc).__name__


def _worker(conn: Connection, proc: int, procs: int) -> None:
    """Entry point of a generator process: serve calls from the pipe until 'stop'."""

    async def main() -> None:
        gen = Gen(proc, procs)
        while True:
            # a thread waits on the (blocking) pipe so the loop keeps serving the sockets
            method, kwargs = await asyncio.to_thread(conn.recv)
            if method == "stop":
                await gen.close_all()
                conn.send(("ok", None))
                return
            try:
                reply = ("ok", await getattr(gen, method)(**kwargs))
            except Exception:
                reply = ("error", traceback.format_exc())
            await asyncio.to_thread(conn.send, reply)

    uvloop.run(main())


# ---- the parent side ---------------------------------------------------------------------

T = TypeVar("T")


class GeneratorError(RuntimeError):
    pass


class GenPool:
    """`procs` generator processes; every call runs in all of them and returns all reports."""

    def __init__(self, procs: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.procs = procs
        self.conns: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for i in range(procs):
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=_worker, args=(child, i, procs), name=f"bench-gen-{i}", daemon=True
            )
            p.start()
            child.close()
            self.conns.append(parent)
            self.processes.append(p)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    async def call(
        self, method: str, per_proc: list[dict[str, Any]], rtype: type[T], limit_s: float = 900.0
    ) -> list[T]:
        """Run method in every process (its kwargs per process); every phase is bounded in
        time by its own parameters, limit_s only guards against a hung generator."""
        for conn, kwargs in zip(self.conns, per_proc, strict=True):
            conn.send((method, kwargs))
        try:
            replies = await asyncio.wait_for(
                asyncio.gather(*(asyncio.to_thread(c.recv) for c in self.conns)), limit_s
            )
        except TimeoutError:
            raise GeneratorError(f"generator did not answer {method} within {limit_s}s") from None
        out: list[T] = []
        for i, (status, value) in enumerate(replies):
            if status != "ok":
                raise GeneratorError(f"generator {i} failed in {method}:\n{value}")
            out.append(cast(T, value))
        return out

    async def call_all(self, method: str, kwargs: dict[str, Any], rtype: type[T]) -> list[T]:
        return await self.call(method, [kwargs] * self.procs, rtype)

    async def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop", {}))
        for conn in self.conns:
            try:
                if await asyncio.to_thread(conn.poll, 10.0):
                    conn.recv()
            except (OSError, EOFError):
                pass
        for p in self.processes:
            p.join(5.0)
            if p.is_alive():
                p.kill()
                p.join(1.0)

    def split(self, items: list[T]) -> list[list[T]]:
        """items dealt round-robin to the processes."""
        return [items[i :: self.procs] for i in range(self.procs)]
