"""A total deadline on request headers, for every connection (WebSocket upgrades too).

Sanic's REQUEST_TIMEOUT counts from the last byte received, so a client that sends
its headers one byte a second ("slowloris") holds a connection, and a worker's
socket slot, for as long as it likes: an upgrade request at 1 byte/s was held about
two hours. Here a request's headers must be complete within `HEADER_TIMEOUT_S` of
the connection being accepted (or, on a kept-alive connection, of the next
request's first byte), however the bytes trickle in. Past it the connection is
answered 408 (when a request had begun) and closed.

The deadline ends when Sanic hands the parsed request to the app (`request_handler`),
so request bodies, responses and WebSocket sessions are not limited by it; those
keep Sanic's own timeouts and the WebSocket keepalive.

Sanic picks its protocol class per server, not per app: `app.serve` passes this one
to `prepare`, and the tests' servers to `create_server`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sanic.exceptions import RequestTimeout
from sanic.http import Stage
from sanic.server.protocols.websocket_protocol import WebSocketProtocol

log = logging.getLogger("livepolls.http")


class HeaderDeadlineProtocol(WebSocketProtocol):
    """Sanic's HTTP + WebSocket protocol with a total header deadline per request."""

    __slots__ = ("_app_handler", "_header_timeout", "_header_timer")

    def _setup(self) -> None:
        super()._setup()  # type: ignore[no-untyped-call]
        self._header_timeout: float = self.app.ctx.settings.header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None
        self._app_handler = self.request_handler
        self.request_handler = self._headers_done

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[no-untyped-call]
        self._start_header_clock()

    def data_received(self, data: bytes) -> None:
        # The first bytes of a kept-alive connection's next request start its clock.
        http = self.http
        if self._header_timer is None and http is not None and http.stage is Stage.IDLE:
            self._start_header_clock()
        super().data_received(data)  # type: ignore[no-untyped-call]

    def close(self, timeout: float | None = None) -> None:
        self._stop_header_clock()
        super().close(timeout)

    async def _headers_done(self, request: Any) -> Any:
        self._stop_header_clock()
        return await self._app_handler(request)

    def _start_header_clock(self) -> None:
        self._header_timer = self.loop.call_later(self._header_timeout, self._headers_overdue)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_overdue(self) -> None:
        """Cut the connection as Sanic's own timeouts do: a 408 if a request had begun."""
        self._header_timer = None
        http = self.http
        if self._task is None or http is None or http.stage not in (Stage.IDLE, Stage.REQUEST):
            return
        log.debug("request headers incomplete after %.1f s: closing", self._header_timeout)
        if http.stage is Stage.REQUEST:
            http.exception = RequestTimeout("Request Timeout")
        self._task.cancel()
