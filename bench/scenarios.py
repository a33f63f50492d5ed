"""The seven scenarios. Each one runs against one target and returns a ScenarioResult:
rows of figures (one per rate step or variant) and correctness checks.

Correctness, at the end of every vote scenario: for each poll, the server's
`GET /polls/{id}/results` total equals the number of distinct users whose vote
was acked `accepted`/`changed`, its counts equal the tally of those users' latest
acked ballots, and (our service) the MySQL `ballots` rows of the poll equal that
number too, after a bounded wait for the write-behind.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bench import procstats
from bench.api import Api, PollRef, User
from bench.generator import (
    ConnectReport,
    ConnectSpec,
    FanoutReport,
    GenPool,
    HoldReport,
    SeqReport,
    ShownReport,
    StormReport,
    StormSpec,
    Tally,
    VoteMode,
    VoteReport,
    VoteSpec,
)
from bench.servers import Target, redis_cpu_s
from bench.stats import Histogram, add_counters, merged

MB = 1024 * 1024


# ---- scale ------------------------------------------------------------------------------


@dataclass
class Scale:
    procs: int = 2  # generator processes
    connect_concurrency: int = 200  # handshakes in flight per generator process
    warmup_s: float = 2.0
    duration_s: float = 8.0
    drain_s: float = 30.0  # longest wait for outstanding acks after a schedule
    seq_timeout_s: float = 30.0  # longest wait for members to reach the final seq
    mysql_wait_s: float = 60.0  # longest wait for MySQL rows to match the acks
    early_stop: bool = True  # stop stepping rates once a step is saturated
    quiet_pct: float = 25.0  # before a phase, wait until other jobs use less than this...
    quiet_wait_s: float = 120.0  # ...of one core, for at most this long
    # 1. acks
    ack_rates: list[int] = field(
        default_factory=lambda: [2000, 4000, 6000, 8000, 10000, 12000, 14000]
    )
    ack_sockets: int = 2000
    # 1b. the acks knee
    knee_p99_ms: float = 50.0
    knee_sustained: float = 0.95  # achieved / target at least
    knee_start: int = 4000
    knee_max: int = 40000
    knee_resolution: float = 0.05
    # 2./3. fan-out
    fanout_rates: list[int] = field(default_factory=lambda: [100, 1000])
    fanout_members: int = 1000
    fanout_members_large: int = 10000
    fanout_sample: int = 200  # members whose every RESULTS is logged for the latency
    # 8. many rooms: every member logs its RESULTS (about one frame a second each)
    rooms: int = 1000
    room_members: int = 10
    rooms_rate: int = 1000
    # 4. idle
    idle_sockets: int = 20000
    idle_rooms: int = 20
    idle_hold_s: float = 45.0
    # 5. storm
    storm_clients: int = 10000
    storm_jitter_s: float = 1.0
    storm_timeout_s: float = 60.0
    # 6. write-behind
    wb_backlog: int = 50000
    wb_fill_rate: int = 5000
    wb_rate: int = 5000
    wb_sockets: int = 1000
    wb_sample_s: float = 0.1
    # 7. slow consumers
    slow_members: int = 1000
    slow_fraction: float = 0.01
    slow_rate: int = 200
    slow_options: int = 20
    slow_duration_s: float = 30.0  # the phase with paused readers
    # 9./10. sessions: the host's next and reveal reaching every member
    follow_members: int = 10000
    follow_steps: int = 5
    follow_goal_p99_ms: float = 300.0
    follow_timeout_s: float = 30.0


FULL = Scale()
QUICK = Scale(
    quiet_wait_s=0.0,
    warmup_s=1.0,
    duration_s=2.0,
    drain_s=10.0,
    seq_timeout_s=10.0,
    mysql_wait_s=20.0,
    ack_rates=[300, 600],
    ack_sockets=200,
    knee_start=200,
    knee_max=450,
    fanout_rates=[50, 200],
    fanout_members=100,
    fanout_members_large=300,
    fanout_sample=40,
    rooms=20,
    room_members=5,
    rooms_rate=100,
    idle_sockets=400,
    idle_rooms=4,
    idle_hold_s=2.0,
    storm_clients=300,
    storm_jitter_s=0.5,
    storm_timeout_s=20.0,
    wb_backlog=2000,
    wb_fill_rate=1000,
    wb_rate=500,
    wb_sockets=200,
    slow_members=100,
    slow_fraction=0.02,
    slow_rate=50,
    slow_duration_s=2.0,
    follow_members=300,
    follow_steps=3,
    follow_timeout_s=10.0,
)


# ---- results ----------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    name: str
    target: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


# ---- shared context -----------------------------------------------------------------------


class Users:
    """Guest users of a target, created on demand and reused across scenarios."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.users: list[User] = []
        self.seconds = 0.0

    async def get(self, n: int) -> list[tuple[int, str]]:
        if len(self.users) < n:
            t = time.monotonic()
            self.users.extend(await self.api.guests(n - len(self.users)))
            self.seconds += time.monotonic() - t
        return [(u.id, u.token) for u in self.users[:n]]


@dataclass
class Ctx:
    target: Target
    api: Api
    users: Users
    owner: User
    scale: Scale
    seed: int
    redis_url: str | None
    host: str
    port: int
    log: Callable[[str], None]


@dataclass
class Usage:
    """Resources used during a phase, by the server, the generator, Redis and MySQL."""

    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    gen_cpu_s: float = 0.0
    redis_cpu_s: float | None = None
    mysql_cpu_s: float | None = None
    server_rss_start: int = 0
    server_rss_end: int = 0
    machine_busy_s: float = 0.0  # every process on the machine, all cores
    quiet_wait_s: float = 0.0  # waited for other jobs before the phase
    irq_s: float = 0.0  # interrupts (loopback packets) on all cores

    def per(self, n: int, what: str) -> dict[str, float | None]:
        def us(s: float | None) -> float | None:
            return round(s / n * 1e6, 2) if s is not None and n > 0 else None

        return {
            f"server_cpu_us_per_{what}": us(self.server_cpu_s),
            f"gen_cpu_us_per_{what}": us(self.gen_cpu_s),
            f"redis_cpu_us_per_{what}": us(self.redis_cpu_s),
            f"mysql_cpu_us_per_{what}": us(self.mysql_cpu_s),
        }

    @property
    def other_cpu_s(self) -> float:
        """CPU used meanwhile by everything that is not the server, the generator, Redis
        or MySQL (other jobs on the machine): high values make a run noisy."""
        ours = (
            self.server_cpu_s + self.gen_cpu_s + (self.redis_cpu_s or 0) + (self.mysql_cpu_s or 0)
        )
        return max(0.0, self.machine_busy_s - ours)

    def summary(self) -> dict[str, float | None]:
        def pct(s: float) -> float:
            return round(100 * s / self.wall_s, 1) if self.wall_s else 0.0

        return {
            "server_cpu_pct": pct(self.server_cpu_s),
            "gen_cpu_pct": pct(self.gen_cpu_s),
            "redis_cpu_pct": pct(self.redis_cpu_s or 0.0),
            "other_cpu_pct": pct(self.other_cpu_s),
            "irq_cpu_pct": pct(self.irq_s),
            "quiet_wait_s": self.quiet_wait_s,
            "server_rss_mb": round(self.server_rss_end / MB, 1),
        }


class Meter:
    def __init__(self, ctx: Ctx, pool: GenPool) -> None:
        self.ctx, self.pool = ctx, pool
        self.mysqld = procstats.find_pids("mariadbd") + procstats.find_pids("mysqld")

    def _read(
        self,
    ) -> tuple[
        float, procstats.Sample, procstats.Sample, float | None, float | None, tuple[float, float]
    ]:
        server = procstats.sample(self.ctx.target.server_roots())
        gen = procstats.sample(self.pool.pids)
        red = redis_cpu_s(self.ctx.redis_url) if self.ctx.redis_url else None
        my = procstats.sample(self.mysqld).cpu_s if self.ctx.target.has_mysql else None
        return time.monotonic(), server, gen, red, my, procstats.machine_busy_s()

    async def start(self) -> None:
        """Wait (bounded) for the machine to be quiet, then take the first reading."""
        self.quiet_wait_s = await self._wait_quiet()
        self.s0 = self._read()

    async def _wait_quiet(self) -> float:
        """Other jobs on these two cores distort every figure: before a measured phase,
        wait up to quiet_wait_s until they use less than quiet_pct of one core."""
        s = self.ctx.scale
        started = time.monotonic()
        while time.monotonic() - started < s.quiet_wait_s:
            a = self._read()
            await asyncio.sleep(0.5)
            b = self._read()
            ours = (b[1].cpu_s - a[1].cpu_s) + (b[2].cpu_s - a[2].cpu_s)
            ours += (b[3] or 0.0) - (a[3] or 0.0) + (b[4] or 0.0) - (a[4] or 0.0)
            other = (b[5][0] - a[5][0]) - ours
            if other / (b[0] - a[0]) * 100 < s.quiet_pct:
                break
        waited = time.monotonic() - started
        if waited > 1.0:
            self.ctx.log(f"  (waited {waited:.0f}s for other jobs to leave the cores)")
        return round(waited, 1)

    def stop(self) -> Usage:
        t1, s1, g1, r1, m1, b1 = self._read()
        t0, s0, g0, r0, m0, b0 = self.s0
        return Usage(
            wall_s=t1 - t0,
            server_cpu_s=s1.cpu_s - s0.cpu_s,
            gen_cpu_s=g1.cpu_s - g0.cpu_s,
            redis_cpu_s=r1 - r0 if r1 is not None and r0 is not None else None,
            mysql_cpu_s=m1 - m0 if m1 is not None and m0 is not None else None,
            server_rss_start=s0.rss_bytes,
            server_rss_end=s1.rss_bytes,
            machine_busy_s=b1[0] - b0[0],
            quiet_wait_s=self.quiet_wait_s,
            irq_s=b1[1] - b0[1],
        )


@dataclass
class Votes:
    """Vote reports of every generator process, merged."""

    planned: int = 0
    sent: int = 0
    not_open: int = 0
    unacked: int = 0
    measured: int = 0
    measured_ok: int = 0
    in_window_acks: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)
    send_lag: Histogram = field(default_factory=Histogram)
    max_seq: dict[int, int] = field(default_factory=dict)
    votes: list[tuple[float, int, int]] = field(default_factory=list)
    acks: list[tuple[int, float]] = field(default_factory=list)
    gen_cpu_s: float = 0.0  # generator CPU during the schedule and the wait for acks
    anomalies: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, reports: list[VoteReport]) -> Votes:
        v = cls()
        for r in reports:
            v.planned += r.planned
            v.sent += r.sent
            v.not_open += r.not_open
            v.unacked += r.unacked
            v.measured += r.measured
            v.measured_ok += r.measured_ok
            v.in_window_acks += r.in_window_acks
            v.latency.merge(r.latency)
            v.send_lag.merge(r.send_lag)
            for poll, seq in r.max_seq.items():
                v.max_seq[poll] = max(seq, v.max_seq.get(poll, -1))
            v.votes.extend(r.votes)
            v.acks.extend(r.acks)
            v.gen_cpu_s += r.cpu_s
            v.samples.extend(r.samples)
        v.statuses = add_counters(r.statuses for r in reports)
        v.anomalies = add_counters(r.anomalies for r in reports)
        return v

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s in ("accepted", "changed", "unchanged"))

    @property
    def errors(self) -> int:
        return self.sent + self.not_open - self.ok

    def row(self, rate: float, duration_s: float) -> dict[str, Any]:
        lat = self.latency.summary_ms()
        return {
            "target_rate": rate,
            "achieved_rate": round(self.in_window_acks / duration_s, 1),
            "ack_p50_ms": lat["p50_ms"],
            "ack_p99_ms": lat["p99_ms"],
            "ack_p999_ms": lat["p999_ms"],
            "ack_max_ms": lat["max_ms"],
            "errors": self.errors,
            "statuses": self.statuses,
            "send_lag_p99_ms": self.send_lag.summary_ms()["p99_ms"],
            "votes_sent": self.sent,
            "unexpected_messages": self.anomalies,
            "unexpected_samples": self.samples[:3],
            "gen_schedule_cpu_us_per_vote": round(self.gen_cpu_s / self.ok * 1e6, 2)
            if self.ok
            else None,
        }


# ---- helpers ------------------------------------------------------------------------------


def merge_connect(reports: list[ConnectReport]) -> ConnectReport:
    out = ConnectReport()
    for r in reports:
        out.opened += r.opened
        out.joined += r.joined
        out.retries += r.retries
        out.seconds = max(out.seconds, r.seconds)
        out.latency.merge(r.latency)
    out.failed = add_counters(r.failed for r in reports)
    return out


async def connect(
    ctx: Ctx,
    pool: GenPool,
    users: list[tuple[int, str]],
    rooms: list[int],
    sample: int = 0,
    session: int | None = None,
) -> ConnectReport:
    parts = pool.split(users)
    specs = [
        {
            "spec": ConnectSpec(
                host=ctx.host,
                port=ctx.port,
                users=part,
                join_polls=rooms,
                join_session=session,
                concurrency=ctx.scale.connect_concurrency,
                sample=math.ceil(sample / pool.procs) if sample else 0,
            )
        }
        for part in parts
    ]
    report = merge_connect(await pool.call("connect", specs, ConnectReport))
    ctx.log(
        f"  connected {report.opened}/{len(users)} in {report.seconds:.1f}s"
        + (f", failed {report.failed}" if report.failed else "")
    )
    return report


async def run_votes(
    ctx: Ctx,
    pool: GenPool,
    polls: list[PollRef],
    rate: float,
    *,
    mode: VoteMode,
    warmup_s: float | None = None,
    duration_s: float | None = None,
    keep_votes: bool = False,
    keep_acks: bool = False,
) -> tuple[Votes, float]:
    """One open-loop schedule over all generator processes; returns (votes, t0)."""
    s = ctx.scale
    t0 = time.monotonic() + 0.3
    spec = VoteSpec(
        t0=t0,
        rate=rate,
        warmup_s=s.warmup_s if warmup_s is None else warmup_s,
        duration_s=s.duration_s if duration_s is None else duration_s,
        polls=polls,
        mode=mode,
        drain_s=s.drain_s,
        seed=ctx.seed,
        keep_votes=keep_votes,
        keep_acks=keep_acks,
    )
    return Votes.of(await pool.call_all("votes", {"spec": spec}, VoteReport)), t0


def polls_needed(total_votes: int, procs: int, sockets: int) -> int:
    per_proc = math.ceil(total_votes / procs)
    return math.ceil(per_proc / (sockets // procs))


async def tally(pool: GenPool) -> Tally:
    out = Tally()
    for t in await pool.call_all("tally", {}, Tally):
        for poll, n in t.voters.items():
            out.voters[poll] = out.voters.get(poll, 0) + n
        for poll, counts in t.counts.items():
            dst = out.counts.setdefault(poll, {})
            for opt, n in counts.items():
                dst[opt] = dst.get(opt, 0) + n
    return out


async def check_polls(ctx: Ctx, polls: list[int], expected: Tally) -> list[Check]:
    """Results total/counts = the acked ballots; MySQL rows = the acked ballots."""
    checks: list[Check] = []
    bad: list[str] = []
    for poll in polls:
        r = await ctx.api.results(ctx.owner, poll)
        want = expected.voters.get(poll, 0)
        want_counts = {o: n for o, n in expected.counts.get(poll, {}).items() if n}
        got_counts = {o: n for o, n in r.counts.items() if n}
        if r.total != want or got_counts != want_counts:
            bad.append(
                f"poll {poll}: total {r.total} vs {want} acked, "
                f"counts {got_counts} vs {want_counts}"
            )
    total = sum(expected.voters.get(p, 0) for p in polls)
    checks.append(
        Check(
            "results = acked ballots",
            not bad,
            f"{len(polls)} polls, {total} ballots" + ("; " + "; ".join(bad[:5]) if bad else ""),
        )
    )
    if ctx.target.has_mysql:
        started = time.monotonic()
        while True:
            rows = await asyncio.to_thread(ctx.target.mysql_counts, polls)
            diff = {
                p: (rows[p], expected.voters.get(p, 0))
                for p in polls
                if rows[p] != expected.voters.get(p, 0)
            }
            waited = time.monotonic() - started
            if not diff or waited > ctx.scale.mysql_wait_s:
                break
            await asyncio.sleep(0.2)
        checks.append(
            Check(
                "MySQL rows = acked ballots",
                not diff,
                f"{sum(rows.values())} rows after {waited:.1f}s"
                + (f"; (rows, acked) {dict(list(diff.items())[:5])}" if diff else ""),
            )
        )
    return checks


def protocol_check(votes: Votes, label: str) -> Check:
    """Every message the clients got was one PROTOCOL.md defines, with its fields."""
    return Check(
        f"only well-formed messages ({label})",
        not votes.anomalies,
        f"{votes.anomalies} e.g. {votes.samples[:2]}" if votes.anomalies else "",
    )


async def close_polls(ctx: Ctx, polls: list[int]) -> None:
    for poll in polls:
        try:
            await ctx.api.close_poll(ctx.owner, poll)
        except Exception as exc:  # closing is housekeeping; never fail a scenario on it
            ctx.log(f"  (could not close poll {poll}: {exc})")


def _ms(us: float) -> float:
    return round(us / 1000.0, 3)


# ---- 1. votes acked end to end ----------------------------------------------------------


async def acks(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    s = ctx.scale
    res.params = {
        "rates": s.ack_rates,
        "sockets": s.ack_sockets,
        "warmup_s": s.warmup_s,
        "duration_s": s.duration_s,
    }
    await connect(ctx, pool, await ctx.users.get(s.ack_sockets), [])
    all_polls: list[int] = []
    for rate in s.ack_rates:
        row = await ack_step(ctx, pool, res, rate, all_polls)
        if row["saturated"] and s.early_stop:
            ctx.log("  saturated: higher rates skipped")
            break
    res.checks += await check_polls(ctx, all_polls, await tally(pool))
    await close_polls(ctx, all_polls)


async def ack_step(
    ctx: Ctx,
    pool: GenPool,
    res: ScenarioResult,
    rate: int,
    all_polls: list[int],
    kind: str = "single",
) -> dict[str, Any]:
    """One open-loop schedule of distinct votes at `rate` on fresh polls; the row."""
    s = ctx.scale
    total = round(rate * (s.warmup_s + s.duration_s))
    polls = await ctx.api.create_polls(
        ctx.owner, polls_needed(total, pool.procs, s.ack_sockets), options=4, kind=kind
    )
    all_polls += [p.id for p in polls]
    meter = Meter(ctx, pool)
    await meter.start()
    votes, _ = await run_votes(ctx, pool, polls, rate, mode="distinct")
    usage = meter.stop()
    label = f"{rate}/s" if kind == "single" else f"{kind} {rate}/s"
    row = {"label": label, "kind": kind, **votes.row(rate, s.duration_s)}
    row.update(usage.per(votes.ok, "vote"))
    row.update(usage.summary())
    res.rows.append(row)
    res.checks.append(protocol_check(votes, f"{rate}/s"))
    ctx.log(
        f"  {label:>14}: achieved {row['achieved_rate']:.0f}/s p50 {row['ack_p50_ms']} ms "
        f"p99 {row['ack_p99_ms']} ms max {row['ack_max_ms']} ms errors {row['errors']} "
        f"server {row['server_cpu_us_per_vote']} us/vote"
    )
    row["saturated"] = row["achieved_rate"] < 0.9 * rate or row["ack_p99_ms"] > 1000
    return row


def knee_params(s: Scale) -> dict[str, Any]:
    return {
        "p99_ms_at_most": s.knee_p99_ms,
        "sustained_at_least": s.knee_sustained,
        "start": s.knee_start,
        "max": s.knee_max,
        "resolution": s.knee_resolution,
        "sockets": s.ack_sockets,
        "warmup_s": s.warmup_s,
        "duration_s": s.duration_s,
    }


async def knee_search(
    ctx: Ctx, pool: GenPool, res: ScenarioResult, all_polls: list[int], kind: str = "single"
) -> dict[str, Any]:
    """The highest rate whose p99 ack stays within `knee_p99_ms` with the rate sustained:
    grow by half until a step fails, then bisect between the last pass and the first
    failure down to `knee_resolution` of the rate. Fixed steps only tell on which side
    of a step each target falls; this finds where each one tips over. Returns (and
    appends) the knee's row; each probed step has its own."""
    s = ctx.scale
    steps = len(res.rows)

    async def passes(rate: int) -> bool:
        row = await ack_step(ctx, pool, res, rate, all_polls, kind)
        ok = bool(
            row["errors"] == 0
            and row["achieved_rate"] >= s.knee_sustained * rate
            and row["ack_p99_ms"] <= s.knee_p99_ms
        )
        row["within_goal"] = ok
        return ok

    lo, hi = 0, 0  # highest rate that passed, lowest that failed (0: none yet)
    rate = s.knee_start
    while rate <= s.knee_max:
        if not await passes(rate):
            hi = rate
            break
        lo = rate
        rate = round(rate * 1.5)
    if lo == 0 and hi:  # even the start failed: search below it
        hi_fail, rate = hi, round(hi / 2)
        while rate >= 100 and not await passes(rate):
            hi_fail, rate = rate, round(rate / 2)
        lo, hi = (rate, hi_fail) if rate >= 100 else (0, hi_fail)
    while lo and hi and hi - lo > max(100, s.knee_resolution * lo):
        mid = round((lo + hi) / 2)
        if await passes(mid):
            lo = mid
        else:
            hi = mid
    row = {
        "label": "knee" if kind == "single" else f"{kind} knee",
        "kind": kind,
        "knee_rate": lo,
        "first_failing_rate": hi or None,
        "steps": len(res.rows) - steps,
    }
    res.rows.append(row)
    ctx.log(
        f"  {row['label']}: {lo}/s (p99 <= {s.knee_p99_ms} ms); first failing step {hi or '-'}/s"
    )
    return row


async def knee(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    res.params = knee_params(ctx.scale)
    await connect(ctx, pool, await ctx.users.get(ctx.scale.ack_sockets), [])
    all_polls: list[int] = []
    await knee_search(ctx, pool, res, all_polls)
    res.checks += await check_polls(ctx, all_polls, await tally(pool))
    await close_polls(ctx, all_polls)


# ---- 2./3. vote -> RESULTS in one room ---------------------------------------------------


async def fanout(ctx: Ctx, pool: GenPool, res: ScenarioResult, members: int) -> None:
    s = ctx.scale
    res.params = {
        "members": members,
        "rates": s.fanout_rates,
        "warmup_s": s.warmup_s,
        "duration_s": s.duration_s,
        "latency_sample_members": s.fanout_sample,
        "voters": "the members themselves (allow_change poll: every vote changes the tally)",
    }
    poll = await ctx.api.create_poll(ctx.owner, options=4, allow_change=True)
    conn = await connect(ctx, pool, await ctx.users.get(members), [poll.id], sample=s.fanout_sample)
    res.checks.append(
        Check("all members joined", conn.joined == members, f"{conn.joined}/{members}")
    )
    for rate in s.fanout_rates:
        await fanout_step(
            ctx, pool, res, [poll], rate, members, "change", f"{members} members @ {rate}/s"
        )
    res.checks += await check_polls(ctx, [poll.id], await tally(pool))
    await close_polls(ctx, [poll.id])


async def fanout_step(
    ctx: Ctx,
    pool: GenPool,
    res: ScenarioResult,
    polls: list[PollRef],
    rate: int,
    members: int,
    mode: VoteMode,
    label: str,
) -> None:
    """One open-loop schedule of the members' own votes, then vote -> RESULTS latency
    per room and whether every member reached its room's final seq."""
    s = ctx.scale
    await pool.call_all("reset", {}, int)
    meter = Meter(ctx, pool)
    await meter.start()
    votes, t0 = await run_votes(ctx, pool, polls, rate, mode=mode, keep_votes=True)
    finals = {p.id: votes.max_seq.get(p.id, 0) for p in polls}
    seqs = await pool.call_all(
        "wait_seq", {"seqs": finals, "timeout_s": s.seq_timeout_s}, SeqReport
    )
    usage = meter.stop()
    window = (t0 + s.warmup_s, t0 + s.warmup_s + s.duration_s)
    fan = await pool.call_all(
        "fanout_latency", {"votes": votes.votes, "window": window}, FanoutReport
    )
    lat = merged(f.latency for f in fan)
    reached = sum(r.reached for r in seqs)
    joined = sum(r.members for r in seqs)
    frames = sum(r.frames for r in seqs)
    converge = max(r.seconds for r in seqs)
    row: dict[str, Any] = {"label": label}
    row.update(votes.row(rate, s.duration_s))
    summary = lat.summary_ms()
    row.update(
        {
            "results_p50_ms": summary["p50_ms"],
            "results_p99_ms": summary["p99_ms"],
            "results_max_ms": summary["max_ms"],
            "latency_pairs": summary["count"],
            "pairs_missing": sum(f.pairs_missing for f in fan),
            "members_sampled": sum(f.members_sampled for f in fan),
            "final_seq": max(finals.values(), default=0),
            "members_reached_final": reached,
            "members_open": joined,
            "converge_after_last_vote_s": round(converge, 3),
            "frames_delivered": frames,
            "frames_per_s": round(frames / usage.wall_s, 1) if usage.wall_s else 0,
        }
    )
    row.update(usage.per(votes.ok, "vote"))
    row.update(usage.per(frames, "frame"))
    row.update(usage.summary())
    res.rows.append(row)
    res.checks.append(protocol_check(votes, f"{rate}/s"))
    res.checks.append(
        Check(
            f"every member reached its room's final seq @ {rate}/s",
            reached == members and joined == members,
            f"{reached}/{members} reached ({joined} open)",
        )
    )
    ctx.log(
        f"  {label}: RESULTS p50 {row['results_p50_ms']} ms p99 {row['results_p99_ms']} ms "
        f"max {row['results_max_ms']} ms; ack p99 {row['ack_p99_ms']} ms; {reached}/{members} "
        f"reached final; {row['frames_per_s']:.0f} frames/s; "
        f"server {row['server_cpu_us_per_vote']} us/vote"
    )


async def fanout_small(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    await fanout(ctx, pool, res, ctx.scale.fanout_members)


async def fanout_large(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    await fanout(ctx, pool, res, ctx.scale.fanout_members_large)


async def rooms(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    """Many small rooms at once (a conference's breakout sessions, or 1,000 classrooms):
    the cost that does not show in one big room is per-room work (subscriptions, flush
    timers, one encode per room per flush)."""
    s = ctx.scale
    members = s.rooms * s.room_members
    res.params = {
        "rooms": s.rooms,
        "members_per_room": s.room_members,
        "rate": s.rooms_rate,
        "warmup_s": s.warmup_s,
        "duration_s": s.duration_s,
        "voters": "each member in its own room (allow_change polls: every vote moves a tally)",
    }
    polls = await ctx.api.create_polls(ctx.owner, s.rooms, options=4, allow_change=True)
    # member i of each generator process joins polls[i % rooms]: room_members per room
    conn = await connect(ctx, pool, await ctx.users.get(members), [p.id for p in polls], members)
    res.checks.append(
        Check("all members joined", conn.joined == members, f"{conn.joined}/{members}")
    )
    label = f"{s.rooms} rooms x {s.room_members} @ {s.rooms_rate}/s"
    await fanout_step(ctx, pool, res, polls, s.rooms_rate, members, "room", label)
    ids = [p.id for p in polls]
    res.checks += await check_polls(ctx, ids, await tally(pool))
    await close_polls(ctx, ids)


# ---- 4. idle sockets ---------------------------------------------------------------------


async def idle(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    s = ctx.scale
    n = s.idle_sockets
    res.params = {"sockets": n, "rooms": s.idle_rooms, "hold_s": s.idle_hold_s}
    polls = await ctx.api.create_polls(ctx.owner, s.idle_rooms, options=4)
    users = await ctx.users.get(n)
    before = procstats.sample(ctx.target.server_roots())
    meter = Meter(ctx, pool)
    await meter.start()
    conn = await connect(ctx, pool, users, [p.id for p in polls])
    connect_usage = meter.stop()
    after_connect = procstats.sample(ctx.target.server_roots())
    await meter.start()
    holds = await pool.call_all("hold", {"seconds": s.idle_hold_s}, HoldReport)
    hold_usage = meter.stop()
    end = procstats.sample(ctx.target.server_roots())
    still = sum(h.open for h in holds)
    drops = sum(h.drops for h in holds)
    per_socket = (end.rss_bytes - before.rss_bytes) / max(1, conn.opened)
    lat = conn.latency.summary_ms()
    row = {
        "label": f"{n} sockets",
        "opened": conn.opened,
        "failed": conn.failed,
        "connect_s": round(conn.seconds, 2),
        "connect_join_p50_ms": lat["p50_ms"],
        "connect_join_p99_ms": lat["p99_ms"],
        "server_cpu_us_per_connect_join": round(
            connect_usage.server_cpu_s / max(1, conn.opened) * 1e6, 1
        ),
        "held_s": s.idle_hold_s,
        "open_at_end": still,
        "drops": drops,
        "close_codes": add_counters(h.close_codes for h in holds),
        "pings_answered": sum(h.pings for h in holds),
        "server_rss_before_mb": round(before.rss_bytes / MB, 1),
        "server_rss_after_mb": round(end.rss_bytes / MB, 1),
        "server_rss_kib_per_socket": round(per_socket / 1024, 2),
        "server_rss_connected_mb": round(after_connect.rss_bytes / MB, 1),
        "server_idle_cpu_pct": round(100 * hold_usage.server_cpu_s / hold_usage.wall_s, 2),
        "server_processes": len(end.pids),
    }
    res.rows.append(row)
    res.checks.append(
        Check("all sockets opened", conn.opened == n, f"{conn.opened}/{n} {conn.failed}")
    )
    res.checks.append(
        Check(
            "no idle socket dropped",
            drops == 0 and still == conn.opened,
            f"{drops} drops, {still} open",
        )
    )
    ctx.log(
        f"  {conn.opened}/{n} open in {conn.seconds:.1f}s, held {s.idle_hold_s}s: {drops} drops; "
        f"server RSS {row['server_rss_before_mb']} -> {row['server_rss_after_mb']} MB "
        f"({row['server_rss_kib_per_socket']} KiB/socket)"
    )
    await close_polls(ctx, [p.id for p in polls])


# ---- 5. reconnect storm ------------------------------------------------------------------


async def storm(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    s = ctx.scale
    n = s.storm_clients
    res.params = {
        "clients": n,
        "jitter_s": s.storm_jitter_s,
        "timeout_s": s.storm_timeout_s,
        "room": "one",
    }
    poll = await ctx.api.create_poll(ctx.owner, options=4)
    conn = await connect(ctx, pool, await ctx.users.get(n), [poll.id])
    meter = Meter(ctx, pool)
    await meter.start()
    spec = StormSpec(
        join_poll=poll.id, jitter_s=s.storm_jitter_s, timeout_s=s.storm_timeout_s, seed=ctx.seed
    )
    reports = await pool.call_all(
        "storm", {"spec": spec, "host": ctx.host, "port": ctx.port}, StormReport
    )
    usage = meter.stop()
    back = sum(r.back for r in reports)
    lat = merged(r.latency for r in reports).summary_ms()
    row = {
        "label": f"{n} clients",
        "clients": conn.opened,
        "back": back,
        "all_back_s": round(max(r.all_back_s for r in reports), 3),
        "reconnect_p50_ms": lat["p50_ms"],
        "reconnect_p99_ms": lat["p99_ms"],
        "reconnect_max_ms": lat["max_ms"],
        "retries": sum(r.retries for r in reports),
        "retry_reasons": add_counters(r.retry_reasons for r in reports),
        "failures": add_counters(r.failures for r in reports),
        "server_cpu_us_per_reconnect": round(usage.server_cpu_s / max(1, back) * 1e6, 1),
        **usage.summary(),
    }
    res.rows.append(row)
    res.checks.append(
        Check("every client back in the room", back == conn.opened == n, f"{back}/{n}")
    )
    ctx.log(
        f"  {back}/{n} back (JOINED) in {row['all_back_s']} s; per client p50 {lat['p50_ms']} ms "
        f"p99 {lat['p99_ms']} ms; retries {row['retries']} {row['retry_reasons'] or ''}"
    )
    await close_polls(ctx, [poll.id])


# ---- 6. write-behind ---------------------------------------------------------------------


def _signal_workers(ctx: Ctx, sig: signal.Signals) -> None:
    # the process, not its group: the peer's vote workers share the web's group
    for pid in ctx.target.worker_roots():
        os.kill(pid, sig)


async def _sample_rows(
    ctx: Ctx, polls: list[int], stop: asyncio.Event, interval: float
) -> list[tuple[float, dict[int, int]]]:
    """(time, rows per poll) every interval until stop is set."""
    samples: list[tuple[float, dict[int, int]]] = []
    while not stop.is_set():
        t = time.monotonic()
        samples.append((t, await asyncio.to_thread(ctx.target.mysql_counts, polls)))
        # the time of a sample is when the query started: rows counted then were persisted by then
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - t)))
    return samples


async def write_behind(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    s = ctx.scale
    if not ctx.target.has_mysql or not ctx.target.worker_roots():
        res.skipped = "no database and no write-behind worker on this target"
        return
    res.params = {
        "backlog_votes": s.wb_backlog,
        "backlog_fill_rate": s.wb_fill_rate,
        "lag_rate": s.wb_rate,
        "lag_duration_s": s.duration_s,
        "sockets": s.wb_sockets,
        "row_sample_interval_s": s.wb_sample_s,
        "arq_workers": len(ctx.target.worker_roots()),
    }
    await connect(ctx, pool, await ctx.users.get(s.wb_sockets), [])
    all_polls: list[int] = []

    # a) backlog: stop the workers, ack a backlog, let them go and time the drain
    polls = await ctx.api.create_polls(
        ctx.owner, polls_needed(s.wb_backlog, pool.procs, s.wb_sockets), options=4
    )
    ids = [p.id for p in polls]
    all_polls += ids
    _signal_workers(ctx, signal.SIGSTOP)
    try:
        votes, _ = await run_votes(
            ctx,
            pool,
            polls,
            s.wb_fill_rate,
            mode="distinct",
            warmup_s=0.0,
            duration_s=s.wb_backlog / s.wb_fill_rate,
        )
        acked = votes.statuses.get("accepted", 0)
        before = sum((await asyncio.to_thread(ctx.target.mysql_counts, ids)).values())
    finally:
        _signal_workers(ctx, signal.SIGCONT)
    meter = Meter(ctx, pool)
    await meter.start()
    t_resume = time.monotonic()
    first = done = 0.0
    rows = before
    while time.monotonic() - t_resume < max(60.0, s.mysql_wait_s):
        rows = sum((await asyncio.to_thread(ctx.target.mysql_counts, ids)).values())
        now = time.monotonic() - t_resume
        if rows > before and not first:
            first = now
        if rows >= acked:
            done = now
            break
        await asyncio.sleep(0.05)
    usage = meter.stop()
    drained = rows - before
    row_a = {
        "label": f"backlog of {acked}",
        "acked": acked,
        "rows_before_resume": before,
        "rows_after": rows,
        "first_row_after_s": round(first, 3),
        "drain_s": round(done, 3) if done else None,
        # From the first row to the last; None when one sample saw them all land (a
        # transaction is visible at once), hence also the rate from the resume, which
        # includes the workers waking up: a lower bound.
        "persisted_per_s": round(drained / (done - first), 1) if done and done > first else None,
        "persisted_per_s_from_resume": round(drained / done, 1) if done else None,
        **usage.per(max(1, drained), "row"),
    }
    res.rows.append(row_a)
    ctx.log(
        f"  backlog {acked}: drained in {row_a['drain_s']} s from the resume -> "
        f"{row_a['persisted_per_s_from_resume']} rows/s (first row after "
        f"{row_a['first_row_after_s']} s; first to last row {row_a['persisted_per_s']} rows/s)"
    )

    # b) lag at a steady rate: rows per poll sampled while voting
    total = round(s.wb_rate * (s.warmup_s + s.duration_s))
    polls = await ctx.api.create_polls(
        ctx.owner, polls_needed(total, pool.procs, s.wb_sockets), options=4
    )
    ids = [p.id for p in polls]
    all_polls += ids
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_rows(ctx, ids, stop, s.wb_sample_s))
    await meter.start()
    votes, t0 = await run_votes(ctx, pool, polls, s.wb_rate, mode="distinct", keep_acks=True)
    usage = meter.stop()
    # keep sampling until every acked vote has a row (bounded)
    want: dict[int, int] = {}
    for poll, _t in votes.acks:
        want[poll] = want.get(poll, 0) + 1
    deadline = time.monotonic() + s.mysql_wait_s
    while time.monotonic() < deadline:
        rows_now = await asyncio.to_thread(ctx.target.mysql_counts, ids)
        if all(rows_now[p] >= n for p, n in want.items()):
            break
        await asyncio.sleep(s.wb_sample_s)
    await asyncio.sleep(s.wb_sample_s * 2)
    stop.set()
    samples = await sampler
    lag, unpersisted = _lags(votes.acks, samples, t0 + s.warmup_s)
    summary = lag.summary_ms()
    row_b = {
        "label": f"lag @ {s.wb_rate}/s",
        **votes.row(s.wb_rate, s.duration_s),
        "lag_p50_ms": summary["p50_ms"],
        "lag_p99_ms": summary["p99_ms"],
        "lag_max_ms": summary["max_ms"],
        "lag_resolution_ms": round(s.wb_sample_s * 1000),
        "acked_without_row": unpersisted,
        "samples": len(samples),
        **usage.per(votes.ok, "vote"),
        **usage.summary(),
    }
    res.rows.append(row_b)
    res.checks.append(protocol_check(votes, f"{s.wb_rate}/s"))
    ctx.log(
        f"  {s.wb_rate}/s: ack p99 {row_b['ack_p99_ms']} ms; persisted lag "
        f"p50 {summary['p50_ms']} ms p99 {summary['p99_ms']} ms max {summary['max_ms']} ms "
        f"(resolution {row_b['lag_resolution_ms']} ms)"
    )
    res.checks += await check_polls(ctx, all_polls, await tally(pool))
    await close_polls(ctx, all_polls)


def _lags(
    acks: list[tuple[int, float]], samples: list[tuple[float, dict[int, int]]], since: float
) -> tuple[Histogram, int]:
    """Per poll, the n-th acked vote counts as persisted at the first sample with >= n rows
    (rows of a poll are written in stream order); lag = that time - its ack time."""
    by_poll: dict[int, list[float]] = {}
    for poll, t in acks:
        by_poll.setdefault(poll, []).append(t)
    hist = Histogram()
    missing = 0
    for poll, times in by_poll.items():
        times.sort()
        j = 0
        for n, t_ack in enumerate(times, start=1):
            while j < len(samples) and samples[j][1].get(poll, 0) < n:
                j += 1
            if j == len(samples):
                missing += len(times) - n + 1
                break
            if t_ack >= since:
                hist.record(max(0.0, samples[j][0] - t_ack) * 1e6)
    return hist, missing


# ---- 7. slow consumers -------------------------------------------------------------------


async def slow(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    s = ctx.scale
    n = s.slow_members
    n_slow = max(1, round(n * s.slow_fraction))
    paused = 0
    res.params = {
        "members": n,
        "slow_members": n_slow,
        "rate": s.slow_rate,
        "options": s.slow_options,
        "baseline_duration_s": s.duration_s,
        "slow_duration_s": s.slow_duration_s,
        "phases": "baseline (everyone reads), then the same with the slow members paused",
        "note": "RESULTS reach a paused reader at ~20 frames/s (a few KB/s): the kernel "
        "buffers absorb minutes of it before the server's own send buffer limit is reached",
    }
    poll = await ctx.api.create_poll(ctx.owner, options=s.slow_options, allow_change=True)
    await connect(ctx, pool, await ctx.users.get(n), [poll.id], sample=s.fanout_sample)
    for phase in ("baseline", "slow"):
        if phase == "slow":
            per = [math.ceil(n_slow / pool.procs)] * pool.procs
            per[-1] = n_slow - sum(per[:-1])
            paused = sum(await pool.call("pause", [{"count": c} for c in per], int))
            await pool.call_all(
                "set_sample", {"n": math.ceil(s.fanout_sample / pool.procs)}, type(None)
            )
        await pool.call_all("reset", {}, int)
        stop = asyncio.Event()
        watcher = asyncio.create_task(_peak_rss(ctx.target, stop))
        meter = Meter(ctx, pool)
        await meter.start()
        duration = s.duration_s if phase == "baseline" else s.slow_duration_s
        votes, t0 = await run_votes(
            ctx, pool, [poll], s.slow_rate, mode="change", keep_votes=True, duration_s=duration
        )
        final = votes.max_seq.get(poll.id, 0)
        seqs = await pool.call_all(
            "wait_seq", {"seqs": {poll.id: final}, "timeout_s": s.seq_timeout_s}, SeqReport
        )
        usage = meter.stop()
        stop.set()
        rss_peak = await watcher
        window = (t0 + s.warmup_s, t0 + s.warmup_s + duration)
        fan = await pool.call_all(
            "fanout_latency", {"votes": votes.votes, "window": window}, FanoutReport
        )
        lat = merged(f.latency for f in fan).summary_ms()
        reached = sum(r.reached for r in seqs)
        healthy = sum(r.members for r in seqs)
        row: dict[str, Any] = {
            "label": f"{phase}: {n} members"
            + (f", {n_slow} not reading" if phase == "slow" else ""),
            "healthy_results_p50_ms": lat["p50_ms"],
            "healthy_results_p99_ms": lat["p99_ms"],
            "healthy_results_max_ms": lat["max_ms"],
            "healthy_reached_final": reached,
            "healthy_members": healthy,
            "ack_p99_ms": votes.latency.summary_ms()["p99_ms"],
            "errors": votes.errors,
            "server_rss_start_mb": round(usage.server_rss_start / MB, 1),
            "server_rss_peak_mb": round(rss_peak / MB, 1),
            "server_rss_end_mb": round(usage.server_rss_end / MB, 1),
            **usage.summary(),
        }
        if phase == "slow":
            resumed = await pool.call_all("resume", {"settle_s": 2.0}, HoldReport)
            row["slow_paused"] = paused
            row["slow_dropped_by_server"] = sum(r.drops for r in resumed)
            row["slow_close_codes"] = add_counters(r.close_codes for r in resumed)
        res.rows.append(row)
        res.checks.append(protocol_check(votes, phase))
        expected = n if phase == "baseline" else n - paused
        res.checks.append(
            Check(
                f"healthy members reached the final seq ({phase})",
                reached == healthy == expected,
                f"{reached}/{expected} ({healthy} open)",
            )
        )
        ctx.log(
            f"  {row['label']}: healthy RESULTS p50 {lat['p50_ms']} ms p99 {lat['p99_ms']} ms; "
            f"server RSS {row['server_rss_start_mb']} -> peak {row['server_rss_peak_mb']} MB"
        )
    res.checks += await check_polls(ctx, [poll.id], await tally(pool))
    await close_polls(ctx, [poll.id])


async def _peak_rss(target: Target, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, procstats.sample(target.server_roots()).rss_bytes)
        await asyncio.sleep(0.25)
    return peak


# ---- 9./10. sessions: the host's next and reveal ----------------------------------------


def _sessions_missing(ctx: Ctx, res: ScenarioResult) -> bool:
    if ctx.target.name != "livepolls":
        res.skipped = "no sessions on this target"
        return True
    return False


async def _follow_step(
    ctx: Ctx, pool: GenPool, act: Callable[[], Awaitable[Any]], poll_id: int, counts: bool
) -> tuple[Histogram, int, int]:
    """Run the host's action, then wait until every member was shown the poll (or its
    counts): each member's latency from just before the request, and how many got it."""
    t0 = time.monotonic()
    await act()
    reports = await pool.call_all(
        "wait_shown",
        {"poll_id": poll_id, "counts": counts, "timeout_s": ctx.scale.follow_timeout_s},
        ShownReport,
    )
    lat = Histogram()
    for r in reports:
        for t in r.times:
            lat.record(max(0.0, t - t0) * 1e6)
    return lat, sum(len(r.times) for r in reports), sum(r.members for r in reports)


def _follow_row(label: str, lat: Histogram, got: int, expected: int, goal: float) -> dict[str, Any]:
    summary = lat.summary_ms()
    return {
        "label": label,
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "max_ms": summary["max_ms"],
        "received": got,
        "expected": expected,
        "goal_p99_ms": goal,
        "meets_goal": summary["p99_ms"] is not None and summary["p99_ms"] <= goal,
    }


class FollowSteps:
    """The measured steps of a follow scenario: one row each, and one over all."""

    def __init__(self, ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
        self.ctx, self.pool, self.res = ctx, pool, res
        self.total, self.got = Histogram(), 0

    async def step(
        self, label: str, act: Callable[[], Awaitable[Any]], poll_id: int, *, counts: bool
    ) -> None:
        meter = Meter(self.ctx, self.pool)
        await meter.start()
        lat, got, members = await _follow_step(self.ctx, self.pool, act, poll_id, counts)
        usage = meter.stop()
        self.total.merge(lat)
        self.got += got
        row = _follow_row(label, lat, got, members, self.ctx.scale.follow_goal_p99_ms)
        row.update(usage.summary())
        self.res.rows.append(row)
        self.ctx.log(f"  {label}: {got}/{members}; p50 {row['p50_ms']} ms p99 {row['p99_ms']} ms")

    def finish(self, expected: int, check: str) -> None:
        goal = self.ctx.scale.follow_goal_p99_ms
        self.res.rows.append(_follow_row("all steps", self.total, self.got, expected, goal))
        self.res.checks.append(Check(check, self.got == expected, f"{self.got}/{expected}"))


async def _session_members(
    ctx: Ctx, pool: GenPool, res: ScenarioResult, poll_ids: list[int]
) -> int:
    """A session of the polls, `follow_members` sockets joined to it; the session's id."""
    s = ctx.scale
    res.params = {
        "members": s.follow_members,
        "steps": s.follow_steps,
        "goal_p99_ms": s.follow_goal_p99_ms,
    }
    session = await ctx.api.create_session(ctx.owner, poll_ids)
    n = s.follow_members
    conn = await connect(ctx, pool, await ctx.users.get(n), [], session=session)
    res.checks.append(Check("all members joined", conn.joined == n, f"{conn.joined}/{n}"))
    res.params["settled_s"] = settled = await _settle(ctx)
    ctx.log(f"  joins settled in {settled} s")
    return session


async def _settle(ctx: Ctx, idle_pct: float = 10.0, limit_s: float = 10.0) -> float:
    """Wait (bounded) until the server is idle after a join burst. A talk's audience
    joins over minutes, not in the one second a generator takes, and the burst's tail
    (viewer counts go out PRESENCE_WINDOW_MS after the last join) would otherwise be
    timed as part of the host's first step."""
    started = idle_since = time.monotonic()
    last = procstats.sample(ctx.target.server_roots()).cpu_s
    while (now := time.monotonic()) - started < limit_s:
        await asyncio.sleep(0.25)
        cpu, then = procstats.sample(ctx.target.server_roots()).cpu_s, now
        now = time.monotonic()
        if (cpu - last) / (now - then) * 100 >= idle_pct:
            idle_since = now
        elif now - idle_since >= 1.25:  # longer than the presence window (1 s)
            break
        last = cpu
    return round(time.monotonic() - started, 2)


async def follow_next(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    """A talk: members follow the host's "next" from poll to poll (a session room; the
    server moves every member, no client round trip)."""
    if _sessions_missing(ctx, res):
        return
    s = ctx.scale
    polls = await ctx.api.create_polls(ctx.owner, s.follow_steps, options=4, status="draft")
    session = await _session_members(ctx, pool, res, [p.id for p in polls])
    steps = FollowSteps(ctx, pool, res)
    for k, poll in enumerate(polls):
        await steps.step(
            f"next #{k + 1}",
            lambda: ctx.api.present(ctx.owner, session, step="next"),
            poll.id,
            counts=False,
        )
    steps.finish(s.follow_members * len(polls), "every member shown every poll")
    await close_polls(ctx, [p.id for p in polls])


async def follow_reveal(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    """The host reveals a hidden poll's results to the whole room: from the request to
    the last member's counts; and no member ever saw them while hidden."""
    if _sessions_missing(ctx, res):
        return
    s = ctx.scale
    n = s.follow_members
    poll = await ctx.api.create_poll(ctx.owner, options=4, results_hidden=True)
    session = await _session_members(ctx, pool, res, [poll.id])
    await ctx.api.present(ctx.owner, session, poll_id=poll.id)
    _, shown, _ = await _follow_step(ctx, pool, lambda: asyncio.sleep(0), poll.id, False)
    res.checks.append(Check("every member shown the poll", shown == n, f"{shown}/{n}"))
    steps, leaks = FollowSteps(ctx, pool, res), 0
    for k in range(s.follow_steps):
        if k:  # hidden again; what members saw before the hide is no leak
            await asyncio.sleep(0.2)
            await ctx.api.set_hidden(ctx.owner, poll.id, True)
            await pool.call_all("forget_counts", {"poll_id": poll.id}, int)
            await asyncio.sleep(0.5)
        leaks += sum(await pool.call_all("forget_counts", {"poll_id": poll.id}, int))
        await steps.step(
            f"reveal #{k + 1}",
            lambda: ctx.api.set_hidden(ctx.owner, poll.id, False),
            poll.id,
            counts=True,
        )
    steps.finish(n * s.follow_steps, "every member saw every reveal")
    res.checks.append(Check("no counts while hidden", leaks == 0, f"{leaks} member(s) saw counts"))
    await close_polls(ctx, [poll.id])


# ---- registry ------------------------------------------------------------------------------

Scenario = Callable[[Ctx, GenPool, ScenarioResult], Awaitable[None]]

# ---- 11. question kinds side by side ------------------------------------------------------

KINDS = ("single", "rating", "ranking", "quiz")
KIND_GOAL = 0.8  # issue #21: each kind's acks/s within 20% of choice's


async def kinds(ctx: Ctx, pool: GenPool, res: ScenarioResult) -> None:
    """Each kind's acks knee, then one room's vote -> RESULTS latency per kind, choice
    first, in the same run: a kind costs only what its ballot costs in the vote script
    (kinds.lua) and its counts in the RESULTS frame. A rating has 4 values, a ranking
    orders 3 of 4 options (3 count fields per ballot, 12 in the frame), a quiz has 4
    options, one correct."""
    if ctx.target.name != "livepolls":
        res.skipped = "no rating, ranking or quiz polls on this target"
        return
    s = ctx.scale
    members, rate = s.fanout_members, s.fanout_rates[-1]
    res.params = {**knee_params(s), "kinds": KINDS, "room_members": members, "room_rate": rate}
    await connect(ctx, pool, await ctx.users.get(s.ack_sockets), [])
    all_polls: list[int] = []
    knees = {k: (await knee_search(ctx, pool, res, all_polls, k))["knee_rate"] for k in KINDS}
    # Single choice once more at the end: every knee search leaves millions of ballots
    # behind (MySQL's table and Redis grow), so a later search tips over sooner whatever
    # its kind. Each kind is judged against single choice's knee at its place in the
    # run, interpolated between the first and this last search.
    last = (await knee_search(ctx, pool, res, all_polls, "single"))["knee_rate"]
    res.rows[-1]["label"] = "knee (single again)"
    res.checks += await check_polls(ctx, all_polls, await tally(pool))
    await close_polls(ctx, all_polls)
    await pool.call_all("close_all", {}, HoldReport)
    for kind in KINDS:
        poll = await ctx.api.create_poll(ctx.owner, options=4, allow_change=True, kind=kind)
        users = await ctx.users.get(members)
        conn = await connect(ctx, pool, users, [poll.id], sample=s.fanout_sample)
        res.checks.append(
            Check(f"{kind}: all members joined", conn.joined == members, f"{conn.joined}")
        )
        label = f"{kind}: {members} members @ {rate}/s"
        await fanout_step(ctx, pool, res, [poll], rate, members, "change", label)
        res.checks += await check_polls(ctx, [poll.id], await tally(pool))
        await close_polls(ctx, [poll.id])
        await pool.call_all("close_all", {}, HoldReport)
    first = knees["single"]
    for i, kind in enumerate(KINDS[1:], start=1):
        single = round(first + (last - first) * i / len(KINDS))
        ratio = knees[kind] / single if single else 0.0
        res.checks.append(
            Check(
                f"{kind} acks knee within {1 - KIND_GOAL:.0%} of single choice's",
                ratio >= KIND_GOAL,
                f"{knees[kind]}/s vs {single}/s ({ratio:.2f}; single {first}/s first, "
                f"{last}/s last)",
            )
        )


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "acks": ("1. votes acked end to end (open loop, stepping rates)", acks),
    "knee": ("1b. the acks knee: highest rate with p99 ack within the goal", knee),
    "fanout": ("2. vote -> RESULTS, one room", fanout_small),
    "fanout-large": ("3. vote -> RESULTS, one large room", fanout_large),
    "idle": ("4. idle sockets held", idle),
    "storm": ("5. reconnect storm", storm),
    "write-behind": ("6. write-behind to MySQL", write_behind),
    "slow": ("7. slow consumers", slow),
    "rooms": ("8. vote -> RESULTS, many small rooms at once", rooms),
    "next": ("9. a session's next reaching every member", follow_next),
    "reveal": ("10. a hidden poll's reveal reaching every member", follow_reveal),
    "kinds": ("11. question kinds side by side: acks knee and one room's latency", kinds),
}


async def run_scenario(ctx: Ctx, name: str) -> ScenarioResult:
    title, fn = SCENARIOS[name]
    res = ScenarioResult(name=name, target=ctx.target.name, title=title)
    ctx.log(f"[{ctx.target.name}] {title}")
    started = time.monotonic()
    pool = GenPool(ctx.scale.procs)
    try:
        await fn(ctx, pool, res)
    except Exception as exc:
        import traceback

        res.error = f"{type(exc).__name__}: {exc}"
        ctx.log(f"  ERROR {res.error}\n{traceback.format_exc()}")
    finally:
        await pool.stop()
    dead = ctx.target.dead()
    res.checks.append(Check("server processes alive", not dead, "; ".join(dead)))
    res.seconds = round(time.monotonic() - started, 1)
    for c in res.checks:
        ctx.log(f"  check {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
    return res


def with_overrides(base: Scale, **overrides: Any) -> Scale:
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
