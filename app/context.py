"""The typed shape of `app.ctx`: the infrastructure handles of one process.

Listeners fill it at start (`before_server_start`) and empty it at stop; handlers and
services reach Redis, the room hub and settings through it rather than globals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sanic import Sanic
from sanic.config import Config

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from app.auth import TokenVerifier
    from app.config import Settings
    from app.polls.leaderboard import Boards
    from app.redis import RedisHandle
    from app.votes import VoteEngine
    from app.ws.hub import Hub
    from app.ws.messages import MessageHandler


class AppContext:
    settings: Settings
    redis: RedisHandle
    verifier: TokenVerifier
    arq: ArqRedis
    votes: VoteEngine
    hub: Hub
    ws_messages: MessageHandler
    boards: Boards  # quiz standings kept by this process
    metrics_dir: Path | None  # main process only: the samples dir it created

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"app.ctx has no {name!r}: is the listener that sets it registered?")


App = Sanic[Config, AppContext]
