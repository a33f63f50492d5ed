"""A process that dies without cleaning up (SIGKILL) stops counting in live gauges."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from app import keys
from tests.test_polls import create

pytestmark = pytest.mark.multiprocess

DRIFT = "livepolls_redis_db_drift_ballots"


async def reported(client: httpx.AsyncClient, sample: str) -> float | None:
    """The sample's value on /metrics, None while no live process reports it."""
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def metric_reaches(client: httpx.AsyncClient, sample: str, value: float) -> None:
    deadline = time.monotonic() + 30
    while (seen := await reported(client, sample)) != value:
        assert time.monotonic() < deadline, f"{sample} stayed {seen}, expected {value}"
        await asyncio.sleep(0.2)


async def test_a_killed_workers_drift_gives_way_to_the_current_one(
    client: httpx.AsyncClient,
    make_person: Any,
    server_process: Any,
    worker: Any,
    redis: redis_sync.Redis,
    tmp_path: Path,
) -> None:
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    web = server_process(**shared)
    poll = await create(client, await make_person())
    option = poll["options"][0]["id"]
    # Redis ahead of the database by 50 ballots that no outbox will ever bring over.
    redis.hset(keys.voters(poll["id"]), mapping={str(10**6 + i): str(option) for i in range(50)})
    first = worker(process=True, reconcile_interval_s=1, **shared)
    await first.started()
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as scrape:
        await metric_reaches(scrape, DRIFT, 50)
        first.kill()
        # Redis and the database agree again; the next pass, on another worker, says so.
        redis.hdel(keys.voters(poll["id"]), *[str(10**6 + i) for i in range(50)])
        second = worker(process=True, reconcile_interval_s=1, **shared)
        await second.started()
        await metric_reaches(scrape, DRIFT, 0)
