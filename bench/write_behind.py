"""Write-behind throughput and drain lag, measured on MariaDB/MySQL and a real Redis.

    python bench/write_behind.py [--votes 100000] [--rate 5000] [--seconds 20]

Standalone (imports only the service's own modules). It creates a scratch database
from the aerich migrations (dropped at the end) and uses one Redis db, which it
FLUSHES: give it a db nobody else uses.

1. Throughput, for 1 and 2 worker processes (`python -m workers`,
   exactly the Procfile's `worker`): a backlog of `--votes` acked ballots is filled
   in Redis while no worker can see the poll, the workers are started and ready,
   then the poll is handed to them; the clock runs until its stream is empty and
   nothing is pending. Result: ballots persisted per second.
2. Drain lag under a steady `--rate` votes/s for `--seconds` with one worker: a
   thread samples the oldest entry still in the stream every ~2 ms (entries are
   trimmed right after their commit), so each ballot's commit is known to within a
   sample; lag = that moment - the moment its vote was acked. p50/p99/max.

Prints the figures and writes them as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymysql  # type: ignore[import-untyped]  # noqa: E402
import redis as redis_sync  # noqa: E402

from app import keys  # noqa: E402
from app.config import Settings, load_settings  # noqa: E402
from app.db import close_db, open_db  # noqa: E402
from app.polls.ids import new_poll_id  # noqa: E402
from app.polls.state import drop_state, write_state  # noqa: E402
from app.redis import redis_client  # noqa: E402
from app.redis_batch import RedisBatch  # noqa: E402
from app.tokens import Principal  # noqa: E402
from app.votes import VoteEngine  # noqa: E402
from models import Ballot, Poll, PollOption, PollStatus, User  # noqa: E402

CAST_CHUNK = 2000


# --- scratch database and worker processes ------------------------------------------


def scratch_database(base: str) -> str:
    parts = urlsplit(base)
    name = f"livepolls_bench_{secrets.token_hex(4)}"
    with _mysql(parts, None) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    url = urlunsplit(parts._replace(path=f"/{name}"))
    subprocess.run(
        [sys.executable, "-m", "aerich", "-c", "aerich.ini", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    return url


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    with _mysql(parts, None) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{parts.path.lstrip('/')}`")


def _mysql(parts: Any, database: str | None) -> Any:
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=database,
        autocommit=True,
    )


class Workers:
    """N `python -m workers` processes (the Procfile's) on the bench backends."""

    def __init__(self, n: int, env: dict[str, str], log_dir: Path) -> None:
        self.logs = [log_dir / f"worker-{i}.log" for i in range(n)]
        self.procs = []
        for log in self.logs:
            with log.open("wb") as out:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "workers"],
                        cwd=ROOT,
                        env={**os.environ, **env, "LOG_LEVEL": "INFO"},
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def wait_ready(self, within_s: float = 60) -> None:
        deadline = time.monotonic() + within_s
        for proc, log in zip(self.procs, self.logs, strict=True):
            while "outbox drainer running" not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


# --- polls and votes --------------------------------------------------------------------


async def make_users(n: int) -> list[Principal]:
    tag = f"bench-{secrets.token_hex(4)}"
    users = [User(is_guest=True, display_name=tag) for _ in range(n)]
    await User.bulk_create(users, batch_size=5000)
    ids = await User.filter(display_name=tag).order_by("id").values_list("id", flat=True)
    return [Principal(int(i), True, "bench", 0, 2**31) for i in ids]  # type: ignore[call-overload]


async def make_poll(redis: Any, owner: int, *, hidden: bool) -> tuple[Poll, list[int]]:
    """An open poll in Redis. `hidden`: its row stays a draft and it is kept out of the
    active set, so no worker drains it (nor does the reconciler hand it to one) until
    `reveal`."""
    poll = await Poll.create(
        id=new_poll_id(),
        owner_id=owner,
        code=secrets.token_hex(3).upper(),
        question="bench",
        kind="multiple",
        max_choices=2,
        status=PollStatus.DRAFT if hidden else PollStatus.OPEN,
        opened_at=datetime.now(UTC),
    )
    ids = [
        (await PollOption.create(poll_id=poll.id, position=i, label=f"o{i}")).id for i in range(4)
    ]
    poll.status = PollStatus.OPEN  # what Redis is told, whatever the row says
    await write_state(redis, poll, ids)
    if hidden:
        await redis.srem(keys.ACTIVE_POLLS, str(poll.id))
    return poll, ids


async def reveal(redis: Any, poll: Poll) -> None:
    await Poll.filter(id=poll.id).update(status=PollStatus.OPEN)
    await redis.sadd(keys.ACTIVE_POLLS, str(poll.id))
    await redis.publish(keys.outbox_wakeup(redis), str(poll.id))


def ballot(i: int, opts: list[int]) -> list[int]:
    return [opts[i % 4], opts[(i + 1) % 4]] if i % 3 == 0 else [opts[i % 4]]


async def cast_all(
    engine: VoteEngine, poll_id: int, voters: list[Principal], opts: list[int]
) -> None:
    for i in range(0, len(voters), CAST_CHUNK):
        await asyncio.gather(
            *(
                engine.cast(principal=p, poll_id=poll_id, body={"option_ids": ballot(i + j, opts)})
                for j, p in enumerate(voters[i : i + CAST_CHUNK])
            )
        )


def backlog(r: Any, poll_id: int) -> tuple[int, int]:
    stream = keys.outbox(poll_id)
    return int(r.xlen(stream)), int(r.xpending(stream, keys.OUTBOX_GROUP)["pending"])


async def until_drained(r: Any, poll_id: int, within_s: float = 600) -> None:
    deadline = time.monotonic() + within_s
    while backlog(r, poll_id) != (0, 0):
        if time.monotonic() > deadline:
            raise RuntimeError(f"not drained: {backlog(r, poll_id)}")
        await asyncio.sleep(0.005)


# --- the two measurements ---------------------------------------------------------------


async def throughput(
    settings: Settings,
    redis: Any,
    sync: redis_sync.Redis,
    voters: list[Principal],
    n_workers: int,
    env: dict[str, str],
    log_dir: Path,
) -> dict[str, Any]:
    poll, opts = await make_poll(redis, voters[0].user_id, hidden=True)
    started = time.perf_counter()
    await cast_all(
        VoteEngine(redis, RedisBatch(redis, reply_timeout_s=settings.redis_reply_timeout_s)),
        poll.id,
        voters,
        opts,
    )
    cast_s = time.perf_counter() - started
    assert backlog(sync, poll.id) == (len(voters), 0)
    workers = Workers(n_workers, env, log_dir / f"throughput-{n_workers}")
    try:
        workers.wait_ready()
        started = time.perf_counter()
        await reveal(redis, poll)
        await until_drained(sync, poll.id)
        elapsed = time.perf_counter() - started
    finally:
        workers.stop()
    persisted = await Ballot.filter(poll_id=poll.id).count()
    assert persisted == len(voters), (persisted, len(voters))
    # Out of the way of the next phase (its reconciler would keep recounting it).
    await Poll.filter(id=poll.id).update(status=PollStatus.CLOSED, finalized_at=datetime.now(UTC))
    await drop_state(redis, poll.id)
    return {
        "workers": n_workers,
        "ballots": len(voters),
        "drain_s": round(elapsed, 3),
        "persisted_per_s": round(len(voters) / elapsed),
        "backlog_cast_per_s": round(len(voters) / cast_s),
    }


class OldestSampler(threading.Thread):
    """Samples (time, seq of the oldest entry still in the stream; inf when empty)."""

    def __init__(self, url: str, stream: str) -> None:
        super().__init__(daemon=True)
        self.client: Any = redis_sync.Redis.from_url(url, decode_responses=True)
        self.stream = stream
        self.samples: list[tuple[float, float]] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            head = self.client.xrange(self.stream, "-", "+", count=1)
            self.samples.append((time.time(), float(head[0][1]["s"]) if head else float("inf")))
            time.sleep(0.002)


async def steady_lag(
    settings: Settings,
    redis: Any,
    voters: list[Principal],
    rate: int,
    seconds: float,
    env: dict[str, str],
    log_dir: Path,
) -> dict[str, Any]:
    poll, opts = await make_poll(redis, voters[0].user_id, hidden=False)
    engine = VoteEngine(redis, RedisBatch(redis, reply_timeout_s=settings.redis_reply_timeout_s))
    workers = Workers(1, env, log_dir / "steady")
    acked: list[tuple[int, float]] = []  # (seq, when the ack came back)

    async def one(i: int, p: Principal) -> None:
        result = await engine.cast(
            principal=p, poll_id=poll.id, body={"option_ids": ballot(i, opts)}
        )
        acked.append((result.seq, time.time()))

    try:
        workers.wait_ready()
        sampler = OldestSampler(settings.redis_url, keys.outbox(poll.id))
        sampler.start()
        tick = 0.01
        per_tick = max(1, round(rate * tick))
        total = min(len(voters), int(rate * seconds))
        began = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()
        for k, i in enumerate(range(0, total, per_tick)):
            for j in range(i, min(i + per_tick, total)):
                task = asyncio.create_task(one(j, voters[j]))
                pending.add(task)
                task.add_done_callback(pending.discard)
            delay = began + (k + 1) * tick - time.perf_counter()
            await asyncio.sleep(max(0.0, delay))
        await asyncio.gather(*pending)
        offered_s = time.perf_counter() - began
        sync = redis_sync.Redis.from_url(settings.redis_url, decode_responses=True)
        await until_drained(sync, poll.id)
        await asyncio.sleep(0.05)
        sampler.running = False
        sampler.join()
    finally:
        workers.stop()

    times = [t for t, _ in sampler.samples]
    lags: list[float] = []
    for seq, ack_at in sorted(acked):
        i = bisect.bisect_left(times, ack_at)
        while i < len(times) and sampler.samples[i][1] <= seq:
            i += 1
        lags.append(times[min(i, len(times) - 1)] - ack_at)
    lags.sort()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "workers": 1,
        "target_votes_per_s": rate,
        "achieved_votes_per_s": round(len(acked) / offered_s),
        "ballots": len(acked),
        "lag_p50_ms": round(lags[len(lags) // 2] * 1000, 1),
        "lag_p99_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1),
        "lag_max_ms": round(lags[-1] * 1000, 1),
        "sample_interval_p50_ms": round(sorted(gaps)[len(gaps) // 2] * 1000, 2),
        "persisted": await Ballot.filter(poll_id=poll.id).count(),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    db_url = scratch_database(args.database_url)
    log_dir = Path(args.logs)
    for sub in ("throughput-1", "throughput-2", "steady"):
        (log_dir / sub).mkdir(parents=True, exist_ok=True)
    env = {"DATABASE_URL": db_url, "REDIS_URL": args.redis_url, "APP_ENV": "development"}
    settings = load_settings(database_url=db_url, redis_url=args.redis_url)
    sync = redis_sync.Redis.from_url(args.redis_url, decode_responses=True)
    sync.flushdb()
    redis = redis_client(args.redis_url)
    await open_db(settings)
    try:
        voters = await make_users(max(args.votes, int(args.rate * args.seconds)))
        results: dict[str, Any] = {"throughput": []}
        for n in args.workers:
            row = await throughput(settings, redis, sync, voters[: args.votes], n, env, log_dir)
            print(f"throughput, {n} worker(s): {row}", flush=True)
            results["throughput"].append(row)
        steady = await steady_lag(settings, redis, voters, args.rate, args.seconds, env, log_dir)
        print(f"steady {args.rate}/s, 1 worker: {steady}", flush=True)
        results["steady"] = steady
        return results
    finally:
        await redis.aclose()
        await close_db()
        sync.flushdb()
        drop_database(db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="FLUSHED")
    parser.add_argument("--votes", type=int, default=100_000, help="backlog size")
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--rate", type=int, default=5000, help="steady votes/s")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--logs", default="/tmp/livepolls-bench-write-behind")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    report = {
        "bench": "write_behind",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "command": " ".join(sys.argv),
        "outbox_batch": load_settings().outbox_batch,
        **figures,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{datetime.now(UTC):%Y-%m-%d}-write-behind.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
