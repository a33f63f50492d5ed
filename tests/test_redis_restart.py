"""The service rides out a Redis restart: a real redis-server killed and started again.

Web and worker run as real processes on a Redis of the test's own; the test kills it
with SIGKILL (every connection drops, nothing is saved) and starts an empty one on the
same port. The state is rebuilt from the database by the first vote on the poll.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from models import Ballot, Poll
from tests.conftest import ROOT, LiveServer, free_port
from tests.test_polls import create, vote
from tests.test_ws_multiprocess import close_all, open_all, people
from tests.wsclient import WsClient

pytestmark = pytest.mark.multiprocess

OUTAGE_S = 4.0


async def ballots_in_db(poll_id: int, n: int, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while (count := await Ballot.filter(poll_id=poll_id).count()) < n:
        assert time.monotonic() < deadline, f"{count} of {n} ballots reached the database"
        await asyncio.sleep(0.1)


async def finalized(poll_id: int, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while (await Poll.get(id=poll_id)).finalized_at is None:
        assert time.monotonic() < deadline, "the closed poll was never finalized"
        await asyncio.sleep(0.1)


async def logged(process_log: Callable[[], str], text: str, within_s: float = 15) -> str:
    deadline = time.monotonic() + within_s
    while text not in (log := process_log()):
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{log[-3000:]}"
        await asyncio.sleep(0.1)
    return log


async def test_web_and_worker_ride_out_a_redis_restart(
    live_server: LiveServer, make_person: Any, server_process: Any, worker: Any, redis_server: Any
) -> None:
    redis = redis_server()
    web = server_process(REDIS_URL=redis.url)
    w = worker(process=True, redis_url=redis.url)
    await w.started()
    owner = await make_person()
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as http:
        poll = await create(http, owner)
    poll_id, option = poll["id"], poll["options"][0]["id"]
    voters = await people(live_server, 30, guest=True)
    member = await WsClient.joined(web.ws_url, owner.token, poll_id)
    sockets = await open_all([(web.ws_url, p.token) for p in voters])
    figures: dict[str, Any] = {}
    try:
        for ws in sockets[:10]:
            reply = await ws.request(type="VOTE", poll_id=poll_id, option_ids=[option])
            assert reply["type"] == "VOTE_ACK", reply
        await ballots_in_db(poll_id, 10)

        redis.kill()
        killed = time.monotonic()
        # While Redis is away a vote is answered (an error), not left hanging.
        reply = await sockets[10].request(type="VOTE", poll_id=poll_id, option_ids=[option])
        assert reply["type"] == "ERROR", reply
        for _ in range(int(OUTAGE_S / 0.05)):
            if not w.alive():
                figures["worker_exited_after_s"] = round(time.monotonic() - killed, 2)
                break
            await asyncio.sleep(0.05)

        redis.start()
        back = time.monotonic()
        # Every vote after Redis is back succeeds, the first one included.
        statuses = []
        for i, ws in enumerate(sockets[10:]):
            reply = await ws.request(within=15, type="VOTE", poll_id=poll_id, option_ids=[option])
            statuses.append(reply.get("status") or reply.get("code"))
            if i == 0:
                figures["first_vote_after_s"] = round(time.monotonic() - back, 3)
                # Cast while the web's pub/sub may still be reconnecting: the room
                # catches up all the same.
                await member.recv_until(
                    lambda m: m["type"] == "RESULTS" and m["total"] == 11, within=15
                )
        figures["votes_after_restart"] = f"{statuses.count('accepted')}/{len(statuses)} accepted"
        figures["worker_alive"] = w.alive()
        # The room catches up: its member sees the tally of every ballot.
        results = await member.recv_until(
            lambda m: m["type"] == "RESULTS" and m["total"] == len(voters), within=15
        )
        assert results["counts"][str(option)] == len(voters)
        await ballots_in_db(poll_id, len(voters))
        figures["all_in_db_after_s"] = round(time.monotonic() - back, 2)
        # The job queue works again too: closing the poll has it finalized by a job.
        async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as http:
            closed = await http.post(f"/polls/{poll_id}/close", headers=owner.headers)
        assert closed.status_code == 200, closed.text
        await finalized(poll_id)
    finally:
        print(f"redis restart figures: {figures}")
        await close_all([member, *sockets])
    assert statuses == ["accepted"] * len(statuses)
    assert w.alive(), w.output()[-3000:]
    # One line when an outage starts and one when it ends, per loop: no traceback storm.
    for output in (w.output, lambda: web.log.read_text(errors="replace")):
        log = await logged(output, "works again")
        assert "Traceback" not in log, log[-3000:]
        assert log.count("retrying with backoff") <= 6, log[-3000:]


def _launch(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def test_make_run_rides_out_a_redis_restart(
    redis_server: Any,
    settings_env: dict[str, str],
    tmp_path: Path,
    live_schema: None,
    make_person: Any,
) -> None:
    """`python -m app.run` (what `make run` calls) keeps both of its processes: the
    worker no longer exits on Redis going away, so honcho never stops the web."""
    redis = redis_server()
    port = free_port()
    log = tmp_path / "run.log"
    env = {**os.environ, **settings_env, "REDIS_URL": redis.url, "HOST": "127.0.0.1"}
    env.update(PORT=str(port), WEB_CONCURRENCY="1", LOG_LEVEL="INFO")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    base_url = f"http://127.0.0.1:{port}"
    proc = _launch(env, log)
    try:
        for _ in range(600):
            if _ready(base_url) and "outbox drainer running" in log.read_text():
                break
            assert proc.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(log.read_text()[-3000:])
        redis.kill()
        await asyncio.sleep(OUTAGE_S)
        redis.start()
        # Both processes serve again: a vote is acked by the web and written by the worker.
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            poll = await create(http, await make_person())
            voted = await vote(http, await make_person(), poll, 0)
        assert voted.status_code == 200, voted.text
        await ballots_in_db(poll["id"], 1, within_s=30)
        output = log.read_text()
        assert proc.poll() is None, output[-3000:]
        assert "stopped (rc=" not in output, output[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


async def test_a_session_room_rides_out_a_redis_restart(
    live_server: LiveServer, make_person: Any, server_process: Any, redis_server: Any
) -> None:
    """Members keep following the host across an empty Redis: a change published while
    the web's pub/sub is still reconnecting is caught up by the room's resync."""
    redis = redis_server()
    web = server_process(REDIS_URL=redis.url)
    host = await make_person()
    members = await open_all([(web.ws_url, p.token) for p in await people(live_server, 20)])
    late = await WsClient.open(web.ws_url, (await make_person()).token)
    async with httpx.AsyncClient(base_url=web.base_url, timeout=10) as http:
        polls = [await create(http, host, status="draft") for _ in range(2)]
        r = await http.post(
            "/sessions",
            json={"title": "Talk", "poll_ids": [p["id"] for p in polls]},
            headers=host.headers,
        )
        session = r.json()

        async def step() -> httpx.Response:
            return await http.post(
                f"/sessions/{session['id']}/present", json={"step": "next"}, headers=host.headers
            )

        def showing(poll: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
            return lambda m: (
                m["type"] == "SESSION_STATE" and (m["poll"] or {}).get("id") == poll["id"]
            )

        try:
            for ws in members:
                await ws.request(type="JOIN_SESSION", session_id=session["id"])
            assert (await step()).status_code == 200
            await asyncio.gather(*(ws.recv_until(showing(polls[0])) for ws in members))

            redis.kill()
            # While Redis is away a join is answered (an error), not left hanging.
            refused = await late.request(type="JOIN_SESSION", session_id=session["id"])
            assert refused["type"] == "ERROR" and refused["code"] == "internal_error"

            redis.start()
            deadline = time.monotonic() + 15
            while (moved := await step()).status_code != 200:  # 503 until Redis answers
                assert time.monotonic() < deadline, moved.text
                await asyncio.sleep(0.2)
            states = await asyncio.gather(
                *(ws.recv_until(showing(polls[1]), within=20) for ws in members)
            )
            assert {s["results"]["total"] for s in states} == {0}
            joined = await late.request(type="JOIN_SESSION", session_id=session["id"], within=10)
            assert joined["type"] == "SESSION_STATE" and joined["poll"]["id"] == polls[1]["id"]
        finally:
            await close_all([*members, late])
