"""The runner: start each target, run the chosen scenarios against it, stop it, report.

Targets run one after the other (never at the same time: they share the cores),
each with the same generator, scale and seed, so figures compare as ratios.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.api import Api
from bench.scenarios import SCENARIOS, Ctx, Scale, ScenarioResult, Users, run_scenario
from bench.servers import REPO, External, Livepolls, NodePeer, PrivateRedis, Target

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Both servers get the same token lifetime, long enough for a full run (sockets whose
# token expires are closed with 4401, which would read as drops).
TOKEN_TTL_S = "21600"


@dataclass
class RunConfig:
    targets: list[str]
    scenarios: list[str]
    scale: Scale
    seed: int = 1
    quick: bool = False
    out: Path | None = None
    url: str | None = None
    url_name: str = "external"
    url_pids: list[int] = field(default_factory=list)
    url_redis: str | None = None
    repo: Path = REPO
    python: str = sys.executable
    livepolls_port: int = 8200
    node_port: int = 8100
    web_workers: int = 2
    arq_workers: int = 1
    redis: str = "private"  # a redis-server per target, or "shared": the URLs below
    redis_aof: bool = False
    livepolls_redis: str = "redis://127.0.0.1:6379/13"
    node_redis: str = "redis://127.0.0.1:6379/14"
    mysql_url: str = "mysql://root@127.0.0.1:3306"
    node_dir: Path | None = None
    keep_db: bool = False
    # the peer drains its outboxes into MySQL as we do (False: its front end alone)
    peer_persist: bool = True
    peer_vote_workers: int = 1


def log(msg: str) -> None:
    # a closed stdout (`| head`) must not stop the run before it stops its servers
    with contextlib.suppress(OSError):
        print(msg, flush=True)


def make_target(cfg: RunConfig, name: str, redis_url: str | None) -> tuple[Target, str | None]:
    """(target, Redis URL for its CPU figures); redis_url None means the shared ones."""
    if cfg.url:
        return External(cfg.url, name=cfg.url_name, pids=cfg.url_pids), cfg.url_redis
    # The load generator mints tens of thousands of guests and hundreds of polls from
    # 127.0.0.1 in seconds: exactly what the abuse buckets refuse, so they are opened.
    env = {
        "JWT_TTL_S": TOKEN_TTL_S,
        "GUEST_BURST": "10000000",
        "POLL_CREATE_BURST": "1000000",
        "MAX_POLLS_PER_USER": "0",
    }
    if name == "livepolls":
        url = redis_url or cfg.livepolls_redis
        target: Target = Livepolls(
            repo=cfg.repo,
            python=cfg.python,
            port=cfg.livepolls_port,
            web_workers=cfg.web_workers,
            arq_workers=cfg.arq_workers,
            redis_url=url,
            mysql_url=cfg.mysql_url,
            keep_db=cfg.keep_db,
            extra_env=env,
        )
        return target, url
    if name == "node":
        url = redis_url or cfg.node_redis
        target = NodePeer(
            node_dir=cfg.node_dir,
            port=cfg.node_port,
            web_workers=cfg.web_workers,
            redis_url=url,
            persist=cfg.peer_persist,
            vote_workers=cfg.peer_vote_workers,
            mysql_url=cfg.mysql_url,
            keep_db=cfg.keep_db,
            extra_env=env,
        )
        return target, url
    raise ValueError(f"unknown target {name!r}")


async def run_target(
    cfg: RunConfig, target: Target, redis_url: str | None
) -> tuple[list[ScenarioResult], dict[str, Any]]:
    from urllib.parse import urlparse

    log(f"\n### {target.name}: starting {target.base_url}")
    t = time.monotonic()
    results: list[ScenarioResult] = []
    api = Api(target.base_url, concurrency=64)
    try:
        # inside the try: a start that fails half way (a worker that dies at import)
        # still has its processes stopped and its scratch database dropped
        await target.start()
        info = target.describe()
        info["start_s"] = round(time.monotonic() - t, 1)
        owner = await api.owner()
        url = urlparse(target.base_url)
        ctx = Ctx(
            target=target,
            api=api,
            users=Users(api),
            owner=owner,
            scale=cfg.scale,
            seed=cfg.seed,
            redis_url=redis_url,
            host=url.hostname or "127.0.0.1",
            port=url.port or 80,
            log=log,
        )
        for name in cfg.scenarios:
            results.append(await run_scenario(ctx, name))
        info["guest_users"] = len(ctx.users.users)
        info["guest_creation_s"] = round(ctx.users.seconds, 1)
    finally:
        await api.aclose()
        log(f"### {target.name}: stopping")
        await target.stop()
    return results, info


def generator_figures(by_target: dict[str, list[ScenarioResult]]) -> dict[str, Any]:
    """The generator's own CPU per vote and per received frame, from the runs."""
    per_vote: list[float] = []
    per_frame: list[float] = []
    for results in by_target.values():
        for r in results:
            for row in r.rows:
                if r.name == "acks" and row.get("gen_schedule_cpu_us_per_vote"):
                    per_vote.append(float(row["gen_schedule_cpu_us_per_vote"]))
                if r.name.startswith("fanout") and row.get("gen_cpu_us_per_frame"):
                    per_frame.append(float(row["gen_cpu_us_per_frame"]))
    out: dict[str, Any] = {}
    if per_vote:
        v = min(per_vote)
        out["cpu_us_per_vote_min"] = v
        out["cpu_us_per_vote_max"] = max(per_vote)
        out["ceiling_votes_per_s_per_core"] = round(1e6 / v)
    if per_frame:
        f = min(per_frame)
        out["cpu_us_per_frame_min"] = f
        out["ceiling_frames_per_s_per_core"] = round(1e6 / f)
    out["note"] = (
        "CPU of the generator processes over each phase divided by acked votes (acks) or "
        "RESULTS frames received (fan-out); includes connection upkeep. See `python -m bench "
        "ceiling` for the generator alone against a stub server."
    )
    return out


async def run(cfg: RunConfig) -> int:
    # SIGTERM cancels the run like Ctrl-C does, so every `finally` stops its servers
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    started = time.time()
    by_target: dict[str, list[ScenarioResult]] = {}
    infos: dict[str, Any] = {}
    failed_start: list[str] = []
    for name in [cfg.url_name] if cfg.url else cfg.targets:
        private = PrivateRedis(
            Path(tempfile.mkdtemp(prefix="livepolls-bench-redis-")), aof=cfg.redis_aof
        )
        try:
            url = await private.start() if cfg.redis == "private" and not cfg.url else None
            target, redis_url = make_target(cfg, name, url)
            results, info = await run_target(cfg, target, redis_url)
            info["redis"] = (
                f"private redis-server {url} (appendonly {'everysec' if cfg.redis_aof else 'no'})"
                if url
                else redis_url
            )
        except Exception as exc:
            log(f"### {name}: FAILED to run: {type(exc).__name__}: {exc}")
            failed_start.append(f"{name}: {exc}")
            continue
        finally:
            await private.stop()
        by_target[name] = results
        infos[name] = info

    ok = not failed_start and all(r.ok for rs in by_target.values() for r in rs)
    doc = {
        "meta": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started, 1),
            "quick": cfg.quick,
            "seed": cfg.seed,
            "argv": sys.argv,
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "scale": asdict(cfg.scale),
        },
        "targets": infos,
        "generator": generator_figures(by_target),
        "scenarios": {
            name: {
                t: next((r.to_json() for r in rs if r.name == name), None)
                for t, rs in by_target.items()
            }
            for name in cfg.scenarios
        },
        "failed_to_start": failed_start,
        "ok": ok,
    }
    out = cfg.out or RESULTS_DIR / (
        time.strftime("%Y-%m-%d-%H%M", time.gmtime(started))
        + "-"
        + "-".join(by_target or ["none"])
        + ("-quick" if cfg.quick else "")
        + ".json"
    )
    report.write_json(out, doc)
    for results in by_target.values():
        log(report.single(results))
    if len(by_target) > 1:
        log("\n\n######## side by side")
        log(report.compare(by_target))
    log(f"\nresults: {out}")
    log("OK" if ok else "FAILED: " + "; ".join(failed_start or ["a check failed (see above)"]))
    return 0 if ok else 1


def known_scenarios() -> list[str]:
    return list(SCENARIOS)
