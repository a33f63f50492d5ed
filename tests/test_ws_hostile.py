"""Hostile and careless clients against real servers: floods, abrupt closes, room hoarding.

The flood tests start a real web process (`server_process`) and watch its memory in
/proc while one socket that never reads floods it; the others run in-process so the
hub's own state can be inspected next to what Redis holds.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import keys
from app.config import Settings
from app.context import App
from app.main import create_app
from tests.conftest import LiveServer, ServerProcess, metric
from tests.sync_redis import SyncRedis
from tests.test_polls import create
from tests.wsclient import CLOSE, PING, RawWs, WsClient, frame

MIB = 1024 * 1024


@pytest.fixture
def app(settings: Settings, request: pytest.FixtureRequest) -> App:
    """The app with room for a socket to join hundreds of rooms quickly, or with the
    overrides a test passes (`@pytest.mark.parametrize("app", [{...}], indirect=True)`)."""
    overrides = getattr(request, "param", {"ws_max_rooms": 256, "ws_messages_per_s": 2000})
    return create_app(settings.model_copy(update=overrides))


def rss_of_group(pgid: int) -> int:
    """Resident bytes of every process in the server's process group (main + workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


class DeafSocket:
    """A raw WebSocket client with a small receive buffer that reads nothing while it
    floods: what the server answers piles up on the server's side. Plain socket calls
    rather than asyncio streams, which read eagerly and, once the server resets the
    connection, drop what they had read: here the kernel still hands over every byte
    that arrived before the reset, the server's close frame included."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, ws_url: str, token: str) -> DeafSocket:
        host, _, rest = ws_url.removeprefix("ws://").partition(":")
        port = int(rest.partition("/")[0])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        sock.setblocking(False)
        self = cls(sock)
        await self.loop.sock_connect(sock, (host, port))
        await self.loop.sock_sendall(
            sock,
            f"GET /ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode(),
        )
        head = b""
        async with asyncio.timeout(10):
            while b"\r\n\r\n" not in head:
                head += await self.loop.sock_recv(sock, 1)  # not a byte past the head
        assert head.startswith(b"HTTP/1.1 101"), head
        return self

    async def send(self, data: bytes, within: float = 1) -> bool:
        """False once the server takes no more (closed, or not reading)."""
        try:
            await asyncio.wait_for(self.loop.sock_sendall(self.sock, data), within)
        except (OSError, TimeoutError):
            return False
        return True

    async def frames(
        self, quiet_s: float = 5, within_s: float = 30
    ) -> tuple[list[tuple[int, bytes]], bool]:
        """Everything the server sent until it ended the connection (True) or fell
        quiet for `quiet_s` (False)."""
        chunks = []
        ended = False
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                chunk = await asyncio.wait_for(self.loop.sock_recv(self.sock, 1 << 16), quiet_s)
            except TimeoutError:
                break
            except OSError:  # reset: the kernel handed over what came before it
                ended = True
                break
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
        return _parse_frames(b"".join(chunks)), ended

    def close(self) -> None:
        self.sock.close()


def _parse_frames(buf: bytes) -> list[tuple[int, bytes]]:
    """Server frames (unmasked) as (opcode, payload), ignoring a cut-off last one."""
    frames, pos = [], 0
    while len(buf) - pos >= 2:
        opcode, length, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, pos + 2
        if length == 126:
            length, head = struct.unpack("!H", buf[pos + 2 : pos + 4])[0], pos + 4
        elif length == 127:
            length, head = struct.unpack("!Q", buf[pos + 2 : pos + 10])[0], pos + 10
        if len(buf) < head + length:
            break
        frames.append((opcode, buf[head : head + length]))
        pos = head + length
    return frames


def close_code(frames: list[tuple[int, bytes]]) -> int | None:
    for opcode, payload in frames:
        if opcode == CLOSE:
            code: int = struct.unpack("!H", payload[:2])[0]
            return code
    return None


PING_BATCH = 4096


async def flood(
    ws: DeafSocket, chunk: bytes, *, pgid: int, max_bytes: int, max_s: float
) -> tuple[int, int, float]:
    """Send `chunk` over and over (bounded in bytes and time) until the server stops
    taking it; returns the peak RSS growth of the server's processes seen meanwhile,
    the bytes sent and the seconds it took."""
    base = peak = rss_of_group(pgid)
    sent = 0
    started = time.monotonic()
    deadline = started + max_s
    while sent < max_bytes and time.monotonic() < deadline and await ws.send(chunk):
        sent += len(chunk)
        peak = max(peak, rss_of_group(pgid))
    elapsed = time.monotonic() - started
    # Whatever the server still holds once the flood stops counts too.
    await asyncio.sleep(0.5)
    return max(peak, rss_of_group(pgid)) - base, sent, elapsed


FLOODS = {
    # WebSocket ping frames, cut by the inbox (app/ws/inbox.py)
    "ping_frames": b"".join(frame(b"", opcode=PING) for _ in range(PING_BATCH)),
    # the same after a fragmented message moved the socket to the websockets parser
    "ping_frames_parsed": b"".join(frame(b"x", opcode=PING) for _ in range(PING_BATCH)),
    # application PINGs, answered by PONG (or rate_limited)
    "app_pings": b"".join(frame(b'{"type":"PING","ref":"p"}') for _ in range(PING_BATCH)),
}


@pytest.mark.multiprocess
@pytest.mark.parametrize("kind", list(FLOODS))
async def test_a_ping_flood_from_a_socket_that_never_reads_is_bounded_and_closed(
    server_process: Any, make_person: Any, kind: str
) -> None:
    server: ServerProcess = server_process()
    person = await make_person()
    ws = await DeafSocket.open(server.ws_url, person.token)
    if kind == "ping_frames_parsed":
        await ws.send(frame(b'{"type":', fin=False) + frame(b'"PING"}', opcode=0, fin=True))
    growth, sent, elapsed = await flood(
        ws, FLOODS[kind], pgid=server.proc.pid, max_bytes=400 * MIB, max_s=10
    )
    frames, ended = await ws.frames()
    code = close_code(frames)
    ws.close()
    print(
        f"{kind}: {sent / MIB:.1f} MiB sent in {elapsed:.1f} s, server RSS grew "
        f"{growth / MIB:.1f} MiB, {len(frames)} frames back, close code {code}, ended {ended}"
    )
    assert growth < 50 * MIB
    assert ended, "the server kept the flooding socket open"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        dropped = await metric(http, "livepolls_ws_flooding_clients_dropped_total")
        assert dropped == 1, dropped
    # Closed by the budget, with 1008: the server says so. The peer sees the 1008 when
    # TCP gets it there: the server closes with the flood unread, so the kernel resets
    # the connection and drops what it had not sent yet, often the close frame among
    # the replies before it (50 pongs or PONGs, then up to 100 rate_limited ERRORs).
    assert code in (1008, None)
    # The process is fine for everyone else.
    other = await RawWs.open(server.ws_url, person.token)
    other.send(type="PING", ref="after")
    assert await other.recv() == {"type": "PONG", "ref": "after"}
    other.close()


# --- a closed socket leaves every room ------------------------------------------------


ROOMS = 200


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tests here open hundreds of rooms from one host: its poll-creation bucket
    (app/ratelimit.py, tested in tests/test_ratelimit.py) is opened wide."""
    return settings.model_copy(update={"poll_create_burst": 100_000})


async def many_polls(client: httpx.AsyncClient, owner: Any, n: int) -> list[dict[str, Any]]:
    sem = asyncio.Semaphore(10)

    async def one() -> dict[str, Any]:
        async with sem:
            return await create(client, owner)

    return list(await asyncio.gather(*(one() for _ in range(n))))


def held_for(live_server: LiveServer, redis: SyncRedis, poll_ids: list[int]) -> dict[str, int]:
    """What still holds the rooms: hub rooms, subscribed channels, presence entries."""
    hub = live_server.app.ctx.hub
    channels = [keys.channel(redis, p) for p in poll_ids]
    numsub = dict(redis.pubsub_numsub(*channels))
    return {
        "hub_rooms": sum(p in hub.rooms for p in poll_ids),
        "subscribed": sum(1 for c in channels if int(numsub.get(c, 0)) > 0),
        "presence": sum(int(redis.zcard(keys.presence(p))) for p in poll_ids),
        "connections": len(hub.connections),
    }


async def until_released(
    live_server: LiveServer, redis: SyncRedis, poll_ids: list[int], within: float = 20
) -> dict[str, int]:
    """Poll `held_for` until nothing holds the rooms (but the observer's connection)."""
    deadline = time.monotonic() + within
    while True:
        held = held_for(live_server, redis, poll_ids)
        if held == RELEASED or time.monotonic() > deadline:
            return held
        await asyncio.sleep(0.1)


RELEASED = {"hub_rooms": 0, "subscribed": 0, "presence": 0, "connections": 1}


@pytest.mark.parametrize("how", ["closes", "resets", "resets_mid_joins"])
async def test_a_socket_that_vanishes_leaves_all_its_rooms(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    make_person: Any,
    redis: SyncRedis,
    how: str,
) -> None:
    owner, joiner, watcher = await make_person(), await make_person(), await make_person()
    polls = await many_polls(client, owner, ROOMS)
    poll_ids = [p["id"] for p in polls]
    watched = poll_ids[:: ROOMS // 5]
    observer = await WsClient.open(live_server.ws_url, watcher.token)
    for poll_id in watched:
        assert (await observer.request(type="JOIN_POLL", poll_id=poll_id))["viewers"] == 1
    ws = await RawWs.open(live_server.ws_url, joiner.token)
    for i, poll_id in enumerate(poll_ids):
        ws.send(type="JOIN_POLL", poll_id=poll_id, ref=str(i))
    if how != "resets_mid_joins":
        joined = 0
        async with asyncio.timeout(30):
            while joined < ROOMS:
                m = await ws.recv(within=30)
                assert m["type"] in ("JOINED", "PRESENCE"), m
                joined += m["type"] == "JOINED"
        seen: dict[int, int] = {}
        async with asyncio.timeout(20):
            while len(seen) < len(watched) or min(seen.values()) < 2:
                m = await observer.recv_until(lambda m: m["type"] == "PRESENCE")
                seen[m["poll_id"]] = m["viewers"]
    else:  # the handler is cancelled in the middle of its joins
        await ws.recv(within=30)
    if how == "closes":  # the close handshake, as any browser tab that is closed
        ws.writer.write(frame(struct.pack("!H", 1000), opcode=CLOSE))
        async with asyncio.timeout(10):
            while (await ws.recv_frame())[0] != CLOSE:
                pass
        ws.close()
    else:  # RST: no close frame, Sanic cancels the handler at once
        ws.writer.transport.abort()
    # The observer's own rooms: the joiner is gone from every one of them.
    for poll_id in watched:
        reply = await observer.request(type="LEAVE_POLL", poll_id=poll_id)
        assert reply["type"] == "LEFT"
    held = await until_released(live_server, redis, poll_ids)
    assert held == RELEASED, held
    # Joining again starts from nothing: only the observer counts.
    for poll_id in watched[:2]:
        assert (await observer.request(type="JOIN_POLL", poll_id=poll_id))["viewers"] == 1
    await observer.close()


# --- a cap on rooms per socket --------------------------------------------------------


@pytest.mark.parametrize("app", [{"ws_max_rooms": 3}], indirect=True)
async def test_a_socket_may_be_in_ws_max_rooms_rooms_at_once(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner = await make_person()
    polls = [await create(client, owner) for _ in range(4)]
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    for poll in polls[:3]:
        assert (await ws.request(type="JOIN_POLL", poll_id=poll["id"]))["type"] == "JOINED"
    for how in ({"poll_id": polls[3]["id"]}, {"code": polls[3]["code"]}):
        refused = await ws.request(type="JOIN_POLL", ref="fourth", **how)
        assert (refused["type"], refused["code"], refused["ref"]) == (
            "ERROR",
            "too_many_rooms",
            "fourth",
        )
    # Still open, and joining a room it is in already is no new room.
    assert (await ws.request(type="PING"))["type"] == "PONG"
    again = await ws.request(type="JOIN_POLL", code=polls[0]["code"])
    assert again["type"] == "JOINED"
    assert (await ws.request(type="LEAVE_POLL", poll_id=polls[0]["id"]))["type"] == "LEFT"
    assert (await ws.request(type="JOIN_POLL", poll_id=polls[3]["id"]))["type"] == "JOINED"
    hub = live_server.app.ctx.hub
    assert polls[0]["id"] not in hub.rooms and polls[3]["id"] in hub.rooms
    await ws.close()


# --- every ERROR echoes the ref of the message it answers -----------------------------


@pytest.mark.parametrize("app", [{"ws_messages_per_s": 10}], indirect=True)
async def test_rate_limited_and_early_errors_echo_the_ref(
    client: httpx.AsyncClient, live_server: LiveServer, make_person: Any
) -> None:
    owner = await make_person()
    poll = await create(client, owner)
    ws = await WsClient.open(live_server.ws_url, (await make_person()).token)
    option = poll["options"][0]["id"]
    sent: list[dict[str, Any]] = [{"type": "PING", "ref": f"p{i}"} for i in range(10)]
    sent += [
        {"type": "PING", "ref": "over"},
        {"type": "VOTE", "poll_id": poll["id"], "option_ids": [option], "ref": "vote-over"},
        {"type": "HELLO", "ref": "unknown-over"},
    ]
    for message in sent:
        await ws.send(**message)
    replies = [await ws.recv() for _ in sent]
    assert [r["ref"] for r in replies] == [m["ref"] for m in sent]
    assert [r["type"] for r in replies] == ["PONG"] * 10 + ["ERROR"] * 3
    assert {r["code"] for r in replies[10:]} == {"rate_limited"}
    await asyncio.sleep(1.2)  # the budget refills
    # Errors found before the message is dispatched echo its ref as well...
    for message, code in (
        ({"type": "HELLO", "ref": "h"}, "unknown_type"),
        ({"type": 7, "ref": "t"}, "bad_message"),
        ({"type": "VOTE", "poll_id": "x", "ref": "v"}, "bad_message"),
        (
            {"type": "VOTE", "poll_id": poll["id"], "option_ids": [999999], "ref": "o"},
            "invalid_option",
        ),
    ):
        reply = await ws.request(**message)
        assert (reply["type"], reply["code"]) == ("ERROR", code), reply
    # ...and only a ref that is not one (not a short string) is not echoed.
    await ws.send(type="PING", ref="x" * 65)
    reply = await ws.recv()
    assert (reply["code"], reply["ref"]) == ("bad_message", None)
    await ws.close()
