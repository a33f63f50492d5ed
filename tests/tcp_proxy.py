"""A TCP forwarder in front of a real server, which a test can make fail for real.

The shared MariaDB must keep running for everyone, so a test that needs "the database
is down" points the service at this proxy instead and changes what it does:

- `forward`: bytes go both ways, the server answers as usual;
- `blackhole`: connections stay open and new ones are accepted, but nothing reaches
  the server and nothing comes back, as with a stopped (SIGSTOP) or partitioned host;
- `reset`: every open connection is closed and new ones are closed on accept, as
  when the server process dies.

It runs its own event loop in a thread, so whatever the test's loop does (or waits
for), the proxy keeps doing what it was told.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

Mode = Literal["forward", "blackhole", "reset"]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "forward"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> TcpProxy:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def set_mode(self, mode: Mode) -> None:
        asyncio.run_coroutine_threadsafe(self._set_mode(mode), self._loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "reset":
            self._close_all()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._close_all()

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            if self.mode == "reset":
                return
            if self.mode == "blackhole":
                await self._pipe(reader, None)
                return
            try:
                up_reader, upstream = await asyncio.open_connection(*self.target)
            except OSError:
                return
            self._writers.add(upstream)
            await asyncio.gather(self._pipe(reader, upstream), self._pipe(up_reader, writer))
        finally:
            for w in (writer, upstream):
                if w is not None:
                    self._writers.discard(w)
                    w.close()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter | None) -> None:
        try:
            while data := await src.read(65536):
                # Outside `forward` the bytes are read and dropped: the peer's writes
                # succeed and it waits for an answer that never comes.
                if self.mode == "forward" and dst is not None:
                    dst.write(data)
                    await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if dst is not None:
                dst.close()
