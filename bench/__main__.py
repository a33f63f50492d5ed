"""`python -m bench ...`: see bench/README.md.

python -m bench all [--quick] [--target livepolls|node|both] [--out FILE]
python -m bench acks fanout ... --target node
python -m bench all --url http://127.0.0.1:8000 [--pid PID ...]
python -m bench ceiling
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import uvloop

from bench.runner import RunConfig, known_scenarios, run
from bench.scenarios import FULL, QUICK, with_overrides
from bench.servers import REPO


def _floats(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scenarios", nargs="+", help=f"'all', 'ceiling', or any of {', '.join(known_scenarios())}"
    )
    p.add_argument("--quick", action="store_true", help="seconds per scenario at small scale (CI)")
    p.add_argument("--target", choices=["livepolls", "node", "both"], default="livepolls")
    p.add_argument("--url", help="measure an already running server instead of starting one")
    p.add_argument("--url-name", default="external", help="name of the --url target in the report")
    p.add_argument(
        "--pid", type=int, action="append", default=[], help="(--url) server pid to measure"
    )
    p.add_argument("--redis-url", help="(--url) the server's Redis, for Redis CPU per vote")
    p.add_argument(
        "--out", type=Path, help="JSON file (default bench/results/<date>-<targets>.json)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--procs", type=int, help="generator processes (default 2)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per step")
    p.add_argument("--duration", type=float, help="measured seconds per step")
    p.add_argument("--rates", type=_floats, help="scenario 1 rates, e.g. 2000,4000,6000")
    p.add_argument("--ack-sockets", type=int)
    p.add_argument("--fanout-rates", type=_floats, help="scenarios 2/3/7 rates, e.g. 100,1000")
    p.add_argument("--members", type=int, help="scenario 2 room size")
    p.add_argument("--members-large", type=int, help="scenario 3 room size")
    p.add_argument("--sample", type=int, help="members whose RESULTS are logged for latency")
    p.add_argument("--rooms", type=int, help="scenario 8: how many rooms")
    p.add_argument("--room-members", type=int, help="scenario 8: members per room")
    p.add_argument("--rooms-rate", type=int, help="scenario 8: votes/s over all rooms")
    p.add_argument("--knee-start", type=int, help="knee: first rate tried")
    p.add_argument("--knee-max", type=int, help="knee: highest rate tried")
    p.add_argument("--knee-p99-ms", type=float, help="knee: the p99 ack goal (default 50)")
    p.add_argument("--idle-sockets", type=int)
    p.add_argument("--idle-hold", type=float, help="seconds to hold the idle sockets")
    p.add_argument("--storm-clients", type=int)
    p.add_argument("--storm-jitter", type=float, help="reconnects spread over this many seconds")
    p.add_argument("--backlog", type=int, help="scenario 6 backlog votes")
    p.add_argument("--wb-rate", type=int, help="scenario 6 steady rate")
    p.add_argument("--slow-members", type=int)
    p.add_argument("--slow-rate", type=int)
    p.add_argument("--slow-duration", type=float, help="seconds of the phase with paused readers")
    p.add_argument(
        "--no-early-stop", action="store_true", help="run every rate even when saturated"
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        help="before each phase wait up to this many seconds until other jobs use less "
        "than --quiet-pct of a core (default 120; 0 with --quick)",
    )
    p.add_argument("--quiet-pct", type=float, help="see --quiet-wait (default 25)")
    p.add_argument("--web-workers", type=int, default=2)
    p.add_argument("--arq-workers", type=int, default=1)
    p.add_argument(
        "--repo", type=Path, default=REPO, help="livepolls checkout (Procfile, aerich.ini)"
    )
    p.add_argument("--python", default=sys.executable, help="python of the livepolls virtualenv")
    p.add_argument("--node-dir", type=Path, help="installed copy of the node peer")
    p.add_argument(
        "--peer-front-end-only",
        action="store_true",
        help="run the node peer without MYSQL_URL (no write-behind), as before 2026-12",
    )
    p.add_argument("--peer-vote-workers", type=int, default=1, help="the peer's VOTE_WORKERS")
    p.add_argument("--livepolls-port", type=int, default=8200)
    p.add_argument("--node-port", type=int, default=8100)
    p.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306")
    p.add_argument(
        "--redis",
        choices=["private", "shared"],
        default="private",
        help="private: a redis-server per target on a free port (default); "
        "shared: --livepolls-redis / --node-redis",
    )
    p.add_argument("--redis-aof", action="store_true", help="private Redis with AOF everysec")
    p.add_argument("--livepolls-redis", default="redis://127.0.0.1:6379/13")
    p.add_argument("--node-redis", default="redis://127.0.0.1:6379/14")
    p.add_argument("--keep-db", action="store_true", help="do not drop the scratch database")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.scenarios == ["ceiling"]:
        from bench.ceiling import main as ceiling

        return ceiling(procs=args.procs or 2, seconds=args.duration or 5.0)
    names = known_scenarios() if args.scenarios == ["all"] else args.scenarios
    unknown = [n for n in names if n not in known_scenarios()]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    base = QUICK if args.quick else FULL
    scale = with_overrides(
        base,
        procs=args.procs,
        warmup_s=args.warmup,
        duration_s=args.duration,
        ack_rates=args.rates,
        ack_sockets=args.ack_sockets,
        fanout_rates=args.fanout_rates,
        fanout_members=args.members,
        fanout_members_large=args.members_large,
        fanout_sample=args.sample,
        rooms=args.rooms,
        room_members=args.room_members,
        rooms_rate=args.rooms_rate,
        knee_start=args.knee_start,
        knee_max=args.knee_max,
        knee_p99_ms=args.knee_p99_ms,
        idle_sockets=args.idle_sockets,
        idle_hold_s=args.idle_hold,
        storm_clients=args.storm_clients,
        storm_jitter_s=args.storm_jitter,
        wb_backlog=args.backlog,
        wb_rate=args.wb_rate,
        slow_members=args.slow_members,
        slow_rate=args.slow_rate,
        slow_duration_s=args.slow_duration,
        early_stop=False if args.no_early_stop else None,
        quiet_wait_s=args.quiet_wait,
        quiet_pct=args.quiet_pct,
    )
    targets = ["livepolls", "node"] if args.target == "both" else [args.target]
    cfg = RunConfig(
        targets=targets,
        scenarios=names,
        scale=scale,
        seed=args.seed,
        quick=args.quick,
        out=args.out,
        url=args.url,
        url_name=args.url_name,
        url_pids=args.pid,
        url_redis=args.redis_url,
        repo=args.repo,
        python=args.python,
        livepolls_port=args.livepolls_port,
        node_port=args.node_port,
        web_workers=args.web_workers,
        arq_workers=args.arq_workers,
        redis=args.redis,
        redis_aof=args.redis_aof,
        livepolls_redis=args.livepolls_redis,
        node_redis=args.node_redis,
        mysql_url=args.mysql_url,
        node_dir=args.node_dir,
        keep_db=args.keep_db,
        peer_persist=not args.peer_front_end_only,
        peer_vote_workers=args.peer_vote_workers,
    )
    try:
        return uvloop.run(run(cfg))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, no results written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
