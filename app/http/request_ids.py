"""Request ids: every HTTP request gets one, echoed in its `X-Request-ID` response header
and carried by every log line emitted while it is served (app/logs.py).

A caller's own `X-Request-ID` (a proxy's, a client's) is kept when it is sane: 1-128
characters of `[A-Za-z0-9._:+=/-]`, so it cannot forge log lines or bloat them;
anything else is replaced by a fresh random id. The id lives in a context variable:
Sanic serves a connection's requests one after another in one task, so it is set at
the start of each request and reset when its response goes out; tasks started while
serving (a WebSocket's handler) keep it for their whole life.
"""

from __future__ import annotations

import re
import uuid

from sanic import Request
from sanic.response import BaseHTTPResponse

from app.context import App
from app.logs import REQUEST_ID

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")


def request_id(request: Request) -> str:
    """This request's id (one is made if the middleware has not run for it)."""
    rid: str | None = getattr(request.ctx, "request_id", None)
    if rid is None:
        rid = request.ctx.request_id = _pick(request.headers.get(HEADER))
    return rid


def _pick(incoming: str | None) -> str:
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def setup_request_ids(app: App) -> None:
    async def start(request: Request) -> None:
        request.ctx.request_id_token = REQUEST_ID.set(request_id(request))

    async def finish(request: Request, response: BaseHTTPResponse) -> None:
        response.headers[HEADER] = request_id(request)
        token = getattr(request.ctx, "request_id_token", None)
        if token is not None:
            REQUEST_ID.reset(token)
            request.ctx.request_id_token = None

    # First in, last out: the other middleware's log lines carry the id too.
    app.register_middleware(start, "request", priority=1000)
    app.register_middleware(finish, "response", priority=1000)
