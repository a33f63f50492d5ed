"""`python -m bench ceiling`: the generator's own cost, against a stub server.

The stub (one uvloop process, no auth, no Redis) acks every VOTE at once and, for
the fan-out half, pushes a RESULTS frame to every joined member every 20 ms. The
generator's CPU seconds over each phase divided by the votes acked / frames
received is its cost per message; 1e6 / cost is what one core of generator can
drive. The stub shares the cores, so the achieved rates are a floor, the CPU cost
is the figure to read.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import multiprocessing
import re
import socket
import time

import uvloop

from bench import procstats
from bench.api import PollRef
from bench.generator import (
    ConnectReport,
    ConnectSpec,
    GenPool,
    SeqReport,
    VoteReport,
    VoteSpec,
)
from bench.scenarios import Votes
from bench.wsclient import GUID

REF = re.compile(rb'"ref":"(\d+)"')


class StubConn(asyncio.Protocol):
    room: set[StubConn] = set()

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.seq = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        StubConn.room.discard(self)
        self.transport = None

    def send(self, payload: bytes) -> None:
        if self.transport is not None:
            n = len(payload)
            head = bytes((0x81, n)) if n < 126 else bytes((0x81, 126)) + n.to_bytes(2, "big")
            self.transport.write(head + payload)

    def data_received(self, data: bytes) -> None:
        data = self.buf + data
        if not self.upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            key = re.search(rb"(?i)sec-websocket-key:\s*(\S+)", data[:end])
            accept = base64.b64encode(hashlib.sha1((key.group(1) if key else b"") + GUID).digest())
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.upgraded = True
            data = data[end + 4 :]
        i = 0
        while len(data) - i >= 6:
            n = data[i + 1] & 0x7F
            head = 2
            if n == 126:
                n = int.from_bytes(data[i + 2 : i + 4], "big")
                head = 4
            if len(data) - i < head + 4 + n:
                break
            mask = data[i + head : i + head + 4]
            raw = data[i + head + 4 : i + head + 4 + n]
            opcode = data[i] & 0x0F
            i += head + 4 + n
            rep = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
            payload = (int.from_bytes(raw, "big") ^ rep).to_bytes(n, "big")
            if opcode == 0x8:
                if self.transport is not None:
                    self.transport.close()
                return
            if opcode != 0x1:
                continue
            m = REF.search(payload)
            ref = m.group(1) if m else b"0"
            if payload.startswith(b'{"type":"VOTE"'):
                self.seq += 1
                self.send(
                    b'{"type":"VOTE_ACK","ref":"%s","poll_id":1,"status":"accepted","seq":%d}'
                    % (ref, self.seq)
                )
            elif payload.startswith(b'{"type":"JOIN_POLL"'):
                StubConn.room.add(self)
                self.send(b'{"type":"JOINED","ref":"j","poll":{},"results":{"seq":0},"viewers":1}')
        self.buf = data[i:]


def _stub_main(sock: socket.socket, broadcast_ms: float) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(StubConn, sock=sock, backlog=4096)
        seq = 0
        async with server:
            while True:
                await asyncio.sleep(broadcast_ms / 1000)
                if StubConn.room:
                    seq += 1
                    frame = (
                        b'{"type":"RESULTS","poll_id":1,"seq":%d,"total":%d,"counts":{"1":%d}}'
                        % (
                            seq,
                            seq,
                            seq,
                        )
                    )
                    for c in list(StubConn.room):
                        c.send(frame)

    uvloop.run(main())


async def _run(procs: int, seconds: float) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    port = sock.getsockname()[1]
    ctx = multiprocessing.get_context("fork")
    stub = ctx.Process(target=_stub_main, args=(sock, 20.0), daemon=True)
    stub.start()
    pool = GenPool(procs)
    try:
        # votes: 1000 sockets, stepping open-loop rates until the acks fall behind
        users = [(i + 1, f"stub-{i}") for i in range(1000)]
        specs = [{"spec": ConnectSpec("127.0.0.1", port, part)} for part in pool.split(users)]
        await pool.call("connect", specs, ConnectReport)
        polls = [PollRef(i + 1, (1, 2, 3, 4)) for i in range(400)]
        print(f"generator ceiling: {procs} processes, stub server pid {stub.pid}")
        print(
            f"{'offered/s':>10} {'acked/s':>10} {'p99 ms':>8} {'gen us/vote':>12} {'gen CPU %':>10}"
        )
        for rate in (10000, 20000, 30000, 40000, 60000):
            g0 = procstats.sample(pool.pids).cpu_s
            t0 = time.monotonic() + 0.3
            spec = VoteSpec(
                t0=t0, rate=rate, warmup_s=0.5, duration_s=seconds, polls=polls, drain_s=5
            )
            v = Votes.of(await pool.call_all("votes", {"spec": spec}, VoteReport))
            cpu = procstats.sample(pool.pids).cpu_s - g0
            wall = time.monotonic() - t0
            print(
                f"{rate:>10} {v.in_window_acks / seconds:>10.0f} "
                f"{v.latency.summary_ms()['p99_ms']:>8} "
                f"{v.gen_cpu_s / max(1, v.ok) * 1e6:>12.1f} {100 * cpu / wall:>10.0f}"
            )
            await pool.call_all("close_all", {}, object)
            await pool.call("connect", specs, ConnectReport)
            if v.in_window_acks / seconds < 0.9 * rate:
                break
        await pool.call_all("close_all", {}, object)
        # fan-out: members receive a RESULTS frame every 20 ms
        print(f"\n{'members':>10} {'frames/s':>10} {'gen us/frame':>13} {'gen CPU %':>10}")
        for members in (1000, 2000, 4000):
            users = [(i + 1, f"stub-{i}") for i in range(members)]
            specs = [
                {"spec": ConnectSpec("127.0.0.1", port, part, join_polls=[1])}
                for part in pool.split(users)
            ]
            await pool.call("connect", specs, ConnectReport)
            await pool.call_all("reset", {}, int)
            g0 = procstats.sample(pool.pids).cpu_s
            t = time.monotonic()
            await asyncio.sleep(seconds)
            frames = sum(
                r.frames
                for r in await pool.call_all("wait_seq", {"seq": 0, "timeout_s": 0}, SeqReport)
            )
            cpu = procstats.sample(pool.pids).cpu_s - g0
            wall = time.monotonic() - t
            print(
                f"{members:>10} {frames / wall:>10.0f} {cpu / max(1, frames) * 1e6:>13.2f} "
                f"{100 * cpu / wall:>10.0f}"
            )
            await pool.call_all("close_all", {}, object)
    finally:
        await pool.stop()
        stub.kill()
        stub.join(2)
        sock.close()


def main(*, procs: int = 2, seconds: float = 5.0) -> int:
    uvloop.run(_run(procs, seconds))
    return 0
