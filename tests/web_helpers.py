"""Helpers for the browser tests: the app behind a cuttable TCP proxy, Chromium pages.

The app runs in the test's own event loop (like `live_server`), on a port chosen
before it is built so that its Origin allow-list can name the page origins: a
browser always sends `Origin` on a WebSocket handshake. The proxy in front of it
cuts connections for real (RST), the way a phone losing its network does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page

from app.context import App

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}


@contextlib.asynccontextmanager
async def serving(app: App, port: int) -> AsyncIterator[None]:
    """`app` on 127.0.0.1:`port` in this event loop (what conftest's live_server does)."""
    server = await app.create_server(
        host="127.0.0.1",
        port=port,
        return_asyncio_server=True,
        asyncio_server_kwargs={"start_serving": False},
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.start_serving()
    await server.after_start()
    try:
        yield
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


class TcpProxy:
    """127.0.0.1:`port` → 127.0.0.1:`target`; `cut()` drops every connection and
    refuses new ones until `resume()`."""

    def __init__(self, port: int, target: int) -> None:
        self.port = port
        self.target = target
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
            )
        finally:
            self._writers -= {writer, up_writer}
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.sleep(0)

    async def resume(self) -> None:
        await self.start()

    async def stop(self) -> None:
        await self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class Watched:
    """A page with what it did that it should not: uncaught errors, dialogs, CSP reports."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def problems(self, *, allow_console: tuple[str, ...] = ()) -> list[str]:
        console = [m for m in self.console_errors if not any(a in m for a in allow_console)]
        return self.errors + [f"dialog: {d}" for d in self.dialogs] + console


async def open_page(
    browser: Browser, viewport: dict[str, int], *, context: BrowserContext | None = None
) -> Watched:
    """A page in a new context (its own localStorage: a separate person) unless given one."""
    if context is None:
        context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(10_000)
    watched = Watched(page)

    async def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.errors.append(f"pageerror: {exc}"))
    return watched
