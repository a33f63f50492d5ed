"""Several server processes behaving as one service, over real sockets.

Each test starts separate `sanic` processes on the test's Redis and database; the
in-process server only provides the ORM for arranging users and polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.tokens import issue_token
from models import User
from tests.conftest import LiveServer, Person, ServerProcess, unique_name
from tests.test_polls import create
from tests.wsclient import WsClient

pytestmark = pytest.mark.multiprocess


async def people(live_server: LiveServer, n: int, guest: bool = False) -> list[Person]:
    await User.bulk_create(
        [User(username=None if guest else unique_name(), is_guest=guest) for _ in range(n)]
    )
    users = await User.all().order_by("-id").limit(n)
    settings = live_server.app.ctx.settings
    return [
        Person(u.id, issue_token(settings, user_id=u.id, is_guest=guest)[0], guest) for u in users
    ]


async def open_all(urls_tokens: list[tuple[str, str]]) -> list[WsClient]:
    sem = asyncio.Semaphore(100)

    async def one(url: str, token: str) -> WsClient:
        async with sem:
            return await WsClient.open(url, token)

    return list(await asyncio.gather(*(one(u, t) for u, t in urls_tokens)))


async def close_all(clients: list[WsClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


@pytest.mark.parametrize("allow_change", [False, True])
async def test_race_two_sockets_per_user_on_two_processes(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    make_person: Any,
    server_process: Any,
    allow_change: bool,
) -> None:
    a: ServerProcess = server_process()
    b: ServerProcess = server_process()
    owner = await make_person()
    poll = await create(client, owner, allow_change=allow_change, options=["red", "green", "blue"])
    option_ids = [o["id"] for o in poll["options"]]
    users = await people(live_server, 300)
    first = await open_all([(a.ws_url, u.token) for u in users])
    second = await open_all([(b.ws_url, u.token) for u in users])

    async def fire(ws: WsClient, option: int) -> dict[str, Any]:
        return await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[option], within=30)

    replies = await asyncio.gather(
        *(
            fire(ws, option_ids[(i + k) % 3])
            for i in range(300)
            for k, ws in ((0, first[i]), (1, second[i]))
        )
    )
    await close_all(first + second)

    expected: Counter[int] = Counter()
    for i in range(300):
        pair = [replies[2 * i], replies[2 * i + 1]]
        chosen = [option_ids[(i + k) % 3] for k in (0, 1)]
        acked = [(r["seq"], chosen[k]) for k, r in enumerate(pair) if r["type"] == "VOTE_ACK"]
        if allow_change:
            assert len(acked) == 2, pair
            assert sorted(r["status"] for r in pair) == ["accepted", "changed"]
            expected[max(acked)[1]] += 1  # the later seq is the ballot that stands
        else:
            assert sorted(r.get("status") or r["code"] for r in pair) == [
                "accepted",
                "already_voted",
            ], pair
            expected[acked[0][1]] += 1
    results = (await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)).json()
    assert results["total"] == 300
    assert sum(results["counts"].values()) == 300
    assert {int(k): v for k, v in results["counts"].items() if v} == dict(expected)
    assert results["seq"] == (600 if allow_change else 300)


async def test_votes_racing_a_close(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    a, b = server_process(), server_process()
    owner = await make_person()
    poll = await create(client, owner)
    option = poll["options"][0]["id"]
    users = await people(live_server, 200)
    sockets = await open_all([((a, b)[i % 2].ws_url, u.token) for i, u in enumerate(users)])
    acks: list[dict[str, Any]] = []
    closed = asyncio.Event()

    async def keep_voting(ws: WsClient) -> None:
        while True:
            reply = await ws.request(
                type="VOTE", poll_id=poll["id"], option_ids=[option], within=30
            )
            acks.append(reply)
            if reply["type"] == "ERROR":
                assert reply["code"] == "poll_not_open"
                return
            if closed.is_set():
                return
            await asyncio.sleep(0.01)

    voters = [asyncio.create_task(keep_voting(ws)) for ws in sockets]
    await asyncio.sleep(0.3)
    close = await client.post(f"/polls/{poll['id']}/close", headers=owner.headers)
    closed.set()
    final = close.json()["results"]
    await asyncio.gather(*voters)
    after = [
        await ws.request(type="VOTE", poll_id=poll["id"], option_ids=[option])
        for ws in sockets[:20]
    ]
    await close_all(sockets)

    accepted = [r for r in acks if r["type"] == "VOTE_ACK" and r["status"] == "accepted"]
    assert all(r["seq"] <= final["seq"] for r in accepted)
    assert len(accepted) == final["total"] == final["seq"]
    assert all(r["type"] == "ERROR" and r["code"] == "poll_not_open" for r in after)
    later = (await client.get(f"/polls/{poll['id']}/results", headers=owner.headers)).json()
    assert later == final


async def test_every_member_reaches_the_final_seq(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    a, b = server_process(), server_process()
    owner = await make_person()
    poll = await create(client, owner)
    watchers = await people(live_server, 200, guest=True)
    voters = await people(live_server, 300)
    members = await open_all([((a, b)[i % 2].ws_url, w.token) for i, w in enumerate(watchers)])
    for ws in members:
        await ws.request(type="JOIN_POLL", poll_id=poll["id"])
    voting = await open_all([((a, b)[i % 2].ws_url, v.token) for i, v in enumerate(voters)])
    replies = await asyncio.gather(
        *(
            ws.request(
                type="VOTE",
                poll_id=poll["id"],
                option_ids=[poll["options"][i % 3]["id"]],
                within=30,
            )
            for i, ws in enumerate(voting)
        )
    )
    assert {r["status"] for r in replies} == {"accepted"}
    final_seq = max(r["seq"] for r in replies)

    async def watch(ws: WsClient) -> list[int]:
        seqs: list[int] = []
        while not seqs or seqs[-1] < final_seq:
            message = await ws.recv_until(lambda m: m["type"] == "RESULTS", within=15)
            seqs.append(message["seq"])
        return seqs

    seen = await asyncio.gather(*(watch(ws) for ws in members))
    for seqs in seen:
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
        assert seqs[-1] == final_seq
    # Coalescing: 300 votes reach each member in far fewer frames than votes.
    assert statistics.mean(len(s) for s in seen) < 150
    await close_all(members + voting)


async def test_a_client_that_stops_reading_delays_no_one(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    server = server_process(SLOW_SOCKET_BYTES="1024", SLOW_SOCKET_S="1")
    owner = await make_person()
    poll = await create(client, owner, options=[f"{i:02d} " + "x" * 190 for i in range(20)])
    watchers = await open_all(
        [(server.ws_url, w.token) for w in await people(live_server, 50, guest=True)]
    )
    for ws in watchers:
        await ws.request(type="JOIN_POLL", poll_id=poll["id"])

    async def lag_of_round(voters: list[Person]) -> list[float]:
        sockets = await open_all([(server.ws_url, v.token) for v in voters])
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(
                ws.request(type="VOTE", poll_id=poll["id"], option_ids=[poll["options"][0]["id"]])
                for ws in sockets
            )
        )
        last = max(r["seq"] for r in replies)
        lags = []
        for ws in watchers:
            await ws.recv_until(lambda m: m["type"] == "RESULTS" and m["seq"] >= last)
            lags.append(time.perf_counter() - started)
        await close_all(sockets)
        return lags

    baseline = await lag_of_round(await people(live_server, 100))

    # The stuck phone: a tiny receive buffer, joins, then floods requests and never reads.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    stuck_person = (await people(live_server, 1))[0]
    stuck = await WsClient.open(server.ws_url, stuck_person.token, sock=raw)

    async def flood() -> None:
        # ~4.5 KB JOINED replies it never reads, until the server gives up on it.
        with contextlib.suppress(ConnectionClosed):
            for _ in range(1500):
                await stuck.send(type="JOIN_POLL", poll_id=poll["id"])
                await asyncio.sleep(0.02)

    flooding = asyncio.create_task(flood())
    await asyncio.sleep(1)
    with_stuck = await lag_of_round(await people(live_server, 100))
    print(
        f"\nvote->RESULTS for 50 watchers: p50 {statistics.median(baseline) * 1000:.1f} ms "
        f"without, {statistics.median(with_stuck) * 1000:.1f} ms with a stuck client"
    )
    await asyncio.wait_for(flooding, 40)
    metrics = (await client.get(f"{server.base_url}/metrics")).text
    dropped = [
        line
        for line in metrics.splitlines()
        if line.startswith("livepolls_ws_slow_clients_dropped_total ")
    ]
    assert dropped and float(dropped[0].split()[1]) == 1, dropped
    assert (await watchers[0].request(type="PING"))["type"] == "PONG"
    await close_all(watchers)


async def test_presence_counts_distinct_users_across_processes(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    a = server_process(PRESENCE_TTL_S="3")
    b = server_process(PRESENCE_TTL_S="3")
    owner = await make_person()
    poll = await create(client, owner)
    alice, bob = await people(live_server, 2)
    watcher = await WsClient.open(a.ws_url, owner.token)
    assert (await watcher.request(type="JOIN_POLL", poll_id=poll["id"]))["viewers"] == 1
    tabs = await open_all(
        [
            (a.ws_url, alice.token),
            (b.ws_url, alice.token),
            (b.ws_url, alice.token),
            (b.ws_url, bob.token),
        ]
    )
    viewers = [(await ws.request(type="JOIN_POLL", poll_id=poll["id"]))["viewers"] for ws in tabs]
    assert viewers == [2, 2, 2, 3]
    await watcher.recv_until(lambda m: m["type"] == "PRESENCE" and m["viewers"] == 3)
    await tabs[0].close()  # alice still has two tabs on b
    await tabs[3].close()  # bob gone
    await watcher.recv_until(lambda m: m["type"] == "PRESENCE" and m["viewers"] == 2)
    b.kill()  # alice's remaining tabs die with the process, uncleanly
    await watcher.recv_until(lambda m: m["type"] == "PRESENCE" and m["viewers"] == 1, within=15)
    await watcher.close()


async def test_workers_of_one_sanic_process_group_share_rooms(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any, server_process: Any
) -> None:
    server = server_process(workers=2)
    owner = await make_person()
    poll = await create(client, owner)
    members = await open_all(
        [(server.ws_url, p.token) for p in await people(live_server, 40, guest=True)]
    )
    for ws in members:
        await ws.request(type="JOIN_POLL", poll_id=poll["id"])
    voter = await WsClient.open(server.ws_url, owner.token)
    ack = await voter.request(
        type="VOTE", poll_id=poll["id"], option_ids=[poll["options"][0]["id"]]
    )
    for ws in members:
        await ws.recv_until(lambda m: m["type"] == "RESULTS" and m["seq"] == ack["seq"])
    pids: set[int] = set()
    for _ in range(400):  # which worker accepts is the kernel's choice: ask until both did
        r = await client.get(f"{server.base_url}/healthz", headers={"Connection": "close"})
        pids.add(r.json()["pid"])
        if len(pids) == 2:
            break
    assert len(pids) == 2
    await close_all([*members, voter])
