"""The admin CLI (app/admin.py) run as a real process on the test backends; its effects
checked in the database, in Redis and through the service's own API."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import redis as redis_sync

from app import keys
from models import Poll, User
from tests.conftest import ROOT, unique_name
from tests.test_export import RESULTS_HEADER
from tests.test_polls import create, vote


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    async def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        # In a thread: the in-process server must keep serving while the CLI runs.
        return await asyncio.to_thread(self._run, args, stdin)

    def _run(self, args: tuple[str, ...], stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.admin", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )


def _cli(settings_env: dict[str, str]) -> Cli:
    return Cli({**os.environ, **settings_env})


def refused(result: subprocess.CompletedProcess[str], text: str) -> None:
    """Exit 1, and one line on stderr that says what was wrong: no traceback."""
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("livepolls-admin: ") and text in result.stderr, result.stderr


async def test_create_user(
    live_server: Any, client: httpx.AsyncClient, settings_env: dict[str, str]
) -> None:
    cli = _cli(settings_env)
    name = unique_name("Ops")
    result = await cli("create-user", name, "--password-stdin", stdin="correct horse\n")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)["user"]
    user = await User.get(id=created["id"])
    assert user.username == name.lower() and not user.is_guest
    assert created == {"id": user.id, "username": name, "is_guest": False}
    # The account works: the password was hashed as registration does it.
    r = await client.post("/auth/login", json={"username": name, "password": "correct horse"})
    assert r.status_code == 200, r.text

    refused(
        await cli("create-user", name.upper(), "--password-stdin", stdin="another one\n"),
        "that username is taken (username_taken)",
    )
    refused(await cli("create-user", "a b", "--password-stdin", stdin="long enough\n"), "username")
    refused(
        await cli("create-user", unique_name(), "--password-stdin", stdin="short\n"), "password"
    )
    assert await User.filter(is_guest=False).count() == 1


async def test_close_poll(
    live_server: Any,
    client: httpx.AsyncClient,
    make_person: Any,
    settings_env: dict[str, str],
    redis: redis_sync.Redis,
) -> None:
    cli = _cli(settings_env)
    owner, voter = await make_person(), await make_person(guest=True)
    poll = await create(client, owner)
    assert (await vote(client, voter, poll, 1)).status_code == 200
    result = await cli("close-poll", str(poll["id"]))
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert results["status"] == "closed" and results["total"] == 1
    assert results["counts"][str(poll["options"][1]["id"])] == 1
    assert (await Poll.get(id=poll["id"])).status == "closed"
    assert redis.hget(keys.meta(poll["id"]), "status") == "closed"
    late = await vote(client, await make_person(guest=True), poll, 0)
    assert late.status_code == 409 and late.json()["error"]["code"] == "poll_not_open"
    # A worker is asked to finalize it.
    assert redis.exists(f"arq:job:finalize:{poll['id']}")

    refused(await cli("close-poll", "987654"), "poll not found (not_found)")
    draft = await create(client, owner, status="draft")
    refused(await cli("close-poll", str(draft["id"])), "(poll_not_open)")
    bad = await cli("close-poll", "abc")
    assert bad.returncode == 2 and "invalid int value" in bad.stderr


async def test_reconcile_now(
    live_server: Any,
    client: httpx.AsyncClient,
    make_person: Any,
    settings_env: dict[str, str],
    redis: redis_sync.Redis,
) -> None:
    cli = _cli(settings_env)
    poll = await create(client, await make_person())
    assert (await vote(client, await make_person(guest=True), poll, 0)).status_code == 200
    redis.delete(keys.meta(poll["id"]))  # Redis lost the poll's state
    result = await cli("reconcile")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["polls"] == 1 and report["rebuilt"] == [poll["id"]]
    assert redis.hget(keys.meta(poll["id"]), "status") == "open"
    quiet = json.loads((await cli("reconcile")).stdout)
    assert quiet["rebuilt"] == [] and quiet["polls"] == 1


async def test_export(
    live_server: Any,
    client: httpx.AsyncClient,
    make_person: Any,
    settings_env: dict[str, str],
    worker: Any,
    tmp_path: Path,
) -> None:
    cli = _cli(settings_env)
    owner = await make_person()
    poll = await create(client, owner, kind="multiple", max_choices=2)
    voters = [await make_person(guest=True) for _ in range(3)]
    for who, choice in zip(voters, ((0,), (0, 2), (2,)), strict=True):
        assert (await vote(client, who, poll, *choice)).status_code == 200
    options = poll["options"]

    result = await cli("export", str(poll["id"]))
    assert result.returncode == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        RESULTS_HEADER,
        [str(options[0]["id"]), "Apple", "0", "2", "", "", ""],
        [str(options[1]["id"]), "Pear", "1", "0", "", "", ""],
        [str(options[2]["id"]), "Plum", "2", "2", "", "", ""],
    ]

    # The ballots are the database's: close, and let a worker finalize the poll.
    assert (await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)).is_success
    await asyncio.wait_for(worker().async_run(), 60)
    out = tmp_path / "ballots.csv"
    result = await cli("export", str(poll["id"]), "--ballots", "--out", str(out))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["user_id"] for r in rows] == [str(v.user_id) for v in voters]
    assert [r["option_ids"] for r in rows] == [
        str(options[0]["id"]),
        f"{options[0]['id']},{options[2]['id']}",
        str(options[2]["id"]),
    ]
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert all(r["cast_at"].endswith("+00:00") for r in rows)

    refused(await cli("export", "987654"), "poll not found (not_found)")
    refused(await cli("export", "987654", "--ballots"), "poll not found (not_found)")
    refused(await cli("export", str(poll["id"]), "--out", str(tmp_path / "no" / "f")), "No such")
