"""`GET /ws`: the handshake gate and the per-socket loop.

The gate runs as blueprint request middleware, i.e. before Sanic upgrades the
connection: an Origin outside the allow-list is a plain HTTP 403 and a missing,
bad or revoked token a plain HTTP 401, so a refused client never gets a socket.
"""

from __future__ import annotations

import functools

from sanic import Blueprint, Request
from sanic.server.websockets.impl import WebsocketImplProtocol

from app.errors import Forbidden
from app.tokens import bearer_token
from app.ws.connection import Connection
from app.ws.inbox import Inbox

bp = Blueprint("ws")


@bp.on_request
async def gate(request: Request) -> None:
    ctx = request.app.ctx
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") not in ctx.settings.allowed_origins:
        raise Forbidden("origin not allowed")
    token = bearer_token(request.headers.get("authorization")) or request.args.get("token")
    request.ctx.principal = await ctx.verifier.verify(token)


# ctx_inbox: this route's sockets take the fast receive path (app/ws/inbox.py).
@bp.websocket("/ws", ctx_inbox=True)  # type: ignore[untyped-decorator]
async def socket(request: Request, ws: WebsocketImplProtocol) -> None:
    ctx = request.app.ctx
    conn = Connection(ws, request.ctx.principal, ctx.settings, ctx.hub.behind)
    ctx.hub.register(conn)
    conn.arm_expiry(ctx.hub.spawn)
    inbox = Inbox.of(ws)
    inbox.fast = functools.partial(ctx.ws_messages.vote_now, conn)
    inbox.conn = conn
    try:
        while (raw := await inbox.next()) is not None:
            await ctx.ws_messages.handle(conn, raw)
            if conn.closed:
                break
    finally:
        conn.disarm_expiry()
        # No await: Sanic cancels this task when the peer vanishes, and would cut
        # the cleanup short at its first await (app/ws/hub.py).
        ctx.hub.unregister(conn)
