"""The application factory: the one place the service is assembled.

`python -m app.serve` (the Procfile's `web`, like `sanic app.main:create_app
--factory`) calls it in the main process and again in every worker process; each
worker opens its own database pool and Redis clients in `before_server_start`, so
nothing is shared across processes but Redis and MySQL.
"""

from __future__ import annotations

import sys
import time

from arq.connections import ArqRedis
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from app import metrics
from app.auth import TokenVerifier, authenticate
from app.config import Settings, SettingsError, load_settings
from app.context import App, AppContext
from app.db import close_db, open_db
from app.errors import setup_errors
from app.gc_tuning import tune_gc
from app.http import auth, docs, ops, poll_sessions, polls
from app.http.headers import setup_headers
from app.http.request_ids import setup_request_ids
from app.logs import setup_logging
from app.polls.leaderboard import Boards
from app.redis import open_redis
from app.tokens import Principal
from app.votes import VoteEngine
from app.web import routes as web_routes
from app.ws import inbox
from app.ws import routes as ws_routes
from app.ws.hub import Hub
from app.ws.messages import MessageHandler


def create_app(settings: Settings | object = None) -> App:
    """Build the app from `settings`, or from the environment.

    The `sanic --factory` CLI calls this with its argparse namespace; anything that is
    not a Settings means "read the environment".
    """
    if not isinstance(settings, Settings):
        try:
            settings = load_settings()
        except SettingsError as exc:
            print(f"livepolls: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

    # Sanic's own handlers off: its lines go through ours (app/logs.py), once, at
    # LOG_LEVEL (otherwise every closed socket logs websockets' "connection closed").
    setup_logging(settings)
    app: App = Sanic("livepolls", ctx=AppContext(), configure_logging=False)
    configure(app, settings)
    setup_request_ids(app)
    setup_errors(app)
    setup_headers(app)
    setup_infrastructure(app, settings)
    setup_request_metrics(app)
    app.ext.add_dependency(Principal, authenticate)
    app.blueprint(ops.bp)
    app.blueprint(auth.bp)
    app.blueprint(polls.bp)
    app.blueprint(poll_sessions.bp)
    app.blueprint(ws_routes.bp)
    inbox.setup_inbox(app)
    app.blueprint(web_routes.bp)
    app.blueprint(docs.bp)
    return app


def configure(app: App, settings: Settings) -> None:
    app.ctx.settings = settings
    app.config.REQUEST_MAX_SIZE = settings.request_max_size
    app.config.WEBSOCKET_MAX_SIZE = settings.ws_max_message_bytes
    # Off: the hub pings every socket from one task instead (app/ws/keepalive.py).
    # Config annotates an int; the protocol takes `float | None` and None means off.
    app.config.WEBSOCKET_PING_INTERVAL = None  # type: ignore[assignment]
    app.config.PROXIES_COUNT = settings.proxies_count or None
    app.config.ACCESS_LOG = False
    app.config.MOTD = settings.app_env != "test"
    # The OpenAPI document and its page are app.http.docs's, not sanic-ext's generator.
    app.config.OAS = False
    app.config.HEALTH = False
    app.config.API_TITLE = "livepolls"
    app.config.API_VERSION = "1.0.0"
    app.config.API_DESCRIPTION = (
        "Live polls: REST API. The WebSocket protocol is in PROTOCOL.md and docs/asyncapi.json."
    )


def setup_infrastructure(app: App, settings: Settings) -> None:
    async def metrics_dir(app: App) -> None:
        app.ctx.metrics_dir = metrics.prepare_multiprocess_dir()

    async def metrics_cleanup(app: App) -> None:
        metrics.remove_multiprocess_dir(app.ctx.metrics_dir)

    async def open_clients(app: App) -> None:
        # SQLite (embedded default, tests) has no migrations; MySQL is migrated by aerich.
        await open_db(
            settings, generate_schemas=not settings.is_mysql, deadline_s=settings.db_timeout_s
        )
        app.ctx.redis = open_redis(settings)
        app.ctx.verifier = TokenVerifier(settings)
        # Lazy (no connection until first use), so the process starts and reports
        # not-ready rather than crashing when Redis is down.
        app.ctx.arq = ArqRedis.from_url(app.ctx.redis.url)
        app.ctx.votes = VoteEngine(app.ctx.redis.client, app.ctx.redis.batch)
        app.ctx.hub = Hub(app.ctx.redis.client, app.ctx.redis.batch, settings)
        app.ctx.ws_messages = MessageHandler(app.ctx)
        app.ctx.boards = Boards(settings.leaderboard_check_s)

    async def start_hub(app: App) -> None:
        await app.ctx.hub.start()

    async def freeze_heap(app: App) -> None:
        tune_gc(settings)

    async def stop_hub(app: App) -> None:
        await app.ctx.hub.stop()

    async def close_clients(app: App) -> None:
        await app.ctx.redis.batch.drain()
        await app.ctx.arq.aclose()
        await app.ctx.redis.close()
        await close_db()

    app.register_listener(metrics_dir, "main_process_start")
    app.register_listener(metrics_cleanup, "main_process_stop")
    app.register_listener(open_clients, "before_server_start")
    app.register_listener(start_hub, "after_server_start")
    app.register_listener(freeze_heap, "after_server_start")
    app.register_listener(stop_hub, "before_server_stop")
    app.register_listener(close_clients, "after_server_stop")


def setup_request_metrics(app: App) -> None:
    async def start_timer(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    async def observe(request: Request, response: BaseHTTPResponse) -> None:
        started = getattr(request.ctx, "started", None)
        route = request.route.path if request.route else "unmatched"
        method = metrics.method_label(request.method)
        metrics.HTTP_REQUESTS.labels(method, route, str(response.status)).inc()
        if started is not None:
            metrics.HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)

    app.register_middleware(start_timer, "request", priority=100)
    app.register_middleware(observe, "response", priority=100)
