"""Logs (app/logs.py, app/http/request_ids.py): one line per event, in the configured
format, carrying the id of the request it was logged for; read from the output of
real server and worker processes."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from app import keys
from tests.conftest import BARE_ARQ_WORKER, WorkerProcess, unique_name
from tests.test_polls import create, poll_body

HEX_ID = re.compile(r"[0-9a-f]{32}")


async def test_the_request_id_round_trips(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    assert r.headers["x-request-id"] == "lb-7f3a:42"
    # None, or not sane (too long, spaces, markup): a fresh one instead.
    for sent in (None, "x" * 129, "two words", "<b>", ""):
        headers = {"X-Request-ID": sent} if sent is not None else {}
        r = await client.get("/healthz", headers=headers)
        assert HEX_ID.fullmatch(r.headers["x-request-id"]), (sent, r.headers)
    # Error responses carry it too, and requests on one connection get their own.
    seen = set()
    for path in ("/polls/999", "/polls/not-a-number", "/no/such/route", "/auth/me"):
        r = await client.get(path)
        assert r.status_code >= 400
        seen.add(r.headers["x-request-id"])
    assert len(seen) == 4 and all(HEX_ID.fullmatch(i) for i in seen)
    r = await client.get("/auth/me", headers={"X-Request-ID": "mine"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "mine"


async def _register(http: httpx.AsyncClient) -> dict[str, str]:
    name = unique_name()
    creds = {"username": name, "password": "long enough password"}
    assert (await http.post("/auth/register", json=creds)).status_code == 201
    token = (await http.post("/auth/login", json=creds)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


async def _wait_for(path: Path, text: str, within_s: float = 30) -> str:
    deadline = time.monotonic() + within_s
    while text not in (out := _read(path)):
        assert time.monotonic() < deadline, f"no {text!r} in:\n{out[-4000:]}"
        await asyncio.sleep(0.05)
    return out


@pytest.mark.multiprocess
async def test_json_lines_carry_the_request_id(server_process: Any) -> None:
    server = server_process(LOG_FORMAT="json", LOG_LEVEL="INFO")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        headers = await _register(http)
        r = await http.post(
            "/polls", json=poll_body(), headers={**headers, "X-Request-ID": "req-json-1"}
        )
        assert r.status_code == 201 and r.headers["x-request-id"] == "req-json-1"
        poll_id = r.json()["id"]
    out = await _wait_for(server.log, '"poll created')
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    created = [line for line in lines if line["message"].startswith("poll created")]
    assert len(created) == 1
    assert created[0]["request_id"] == "req-json-1" and created[0]["poll_id"] == poll_id
    assert {"time", "level", "logger", "message"} <= set(created[0])
    assert created[0]["level"] == "INFO" and created[0]["logger"] == "livepolls.polls"


@pytest.mark.multiprocess
async def test_text_lines_carry_the_request_id(server_process: Any) -> None:
    server = server_process(LOG_LEVEL="INFO")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        headers = await _register(http)
        r = await http.post(
            "/polls", json=poll_body(), headers={**headers, "X-Request-ID": "req-text-1"}
        )
        poll_id = r.json()["id"]
    out = await _wait_for(server.log, "poll created")
    [line] = [line for line in out.splitlines() if "poll created" in line]
    assert " INFO livepolls.polls: poll created (open) " in line
    assert f"poll_id={poll_id}" in line and "request_id=req-text-1" in line


def _lines(worker: WorkerProcess) -> list[str]:
    return [line for line in worker.output().splitlines() if line.strip()]


@pytest.mark.multiprocess
@pytest.mark.parametrize("procfile", [True, False], ids=["procfile", "bare-arq"])
async def test_a_worker_writes_each_line_once(
    procfile: bool, worker: Any, client: httpx.AsyncClient, make_person: Any
) -> None:
    args = {} if procfile else {"argv": BARE_ARQ_WORKER}
    w = worker(process=True, log_format="json", **args)
    await w.started()
    owner = await make_person()
    poll = await create(client, owner)
    # Closing asks a worker to finalize the poll: an arq job, logged by arq as it runs.
    assert (await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)).is_success
    await _wait_for(w.log, f"finalize:{poll['id']}:finalize_poll ●")
    w.stop()
    lines = _lines(w)
    counts = Counter(lines)
    assert [line for line, n in counts.items() if n > 1] == []
    assert sum("Starting worker for" in line for line in lines) == 1
    assert sum(f"finalize:{poll['id']}:finalize_poll(" in line for line in lines) == 1
    # With the Procfile's arguments every line is ours, arq's first ones included.
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            assert not procfile, line
    assert any(p["logger"] == "arq.worker" for p in parsed)


@pytest.mark.multiprocess
async def test_a_quiet_reconcile_pass_logs_nothing_at_info(
    worker: Any, client: httpx.AsyncClient, make_person: Any, redis: redis_sync.Redis
) -> None:
    poll = await create(client, await make_person())
    w = worker(process=True, log_format="json", log_level="DEBUG", reconcile_interval_s=1)
    await w.started()
    deadline = time.monotonic() + 60
    while sum("reconcile pass: nothing to do" in line for line in _lines(w)) < 3:
        assert time.monotonic() < deadline, w.output()[-4000:]
        await asyncio.sleep(0.1)
    loud = [
        line
        for line in map(json.loads, _lines(w))
        if line["level"] != "DEBUG"
        and (
            line["logger"] in ("livepolls.jobs", "livepolls.reconcile")
            or "cron:reconcile_polls(" in line["message"]
            or "cron:reconcile_polls ●" in line["message"]
        )
    ]
    assert loud == []
    # A pass that does something says so, once, at INFO.
    redis.delete(keys.meta(poll["id"]))
    await _wait_for(w.log, "reconcile pass changed rebuilt")
    changed = [
        line for line in map(json.loads, _lines(w)) if "reconcile pass changed" in line["message"]
    ]
    assert changed[0]["level"] == "INFO" and changed[0]["rebuilt"] == [poll["id"]]
