"""The servers under test: started and stopped by the runner, or already running.

- `Livepolls`: our service with production settings, from the repo's Procfile (`web`
  with WEB_CONCURRENCY workers, `worker` = arq, as many as asked), on a scratch
  MariaDB database the runner creates and migrates with aerich and drops at the end,
  and a scratch Redis db it flushes before and after.
- `NodePeer`: the node measurement peer (`node src/server.js`, WORKERS processes),
  from a private copy of /work/shared/peers/node-seed with `npm ci` run in it.
- `External`: any server at a URL (pids may be given to measure CPU and RSS).

Every started process gets its own session, so stopping signals the process
groups this runner created, by id, and nothing else.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlparse

import pymysql  # type: ignore[import-untyped]
import redis

from bench import procstats
from bench.api import Api

REPO = Path(__file__).resolve().parents[1]
NODE_SEED = Path("/work/shared/peers/node-seed")


class ServerError(RuntimeError):
    pass


@dataclass(slots=True)
class Managed:
    """One started process (the root of a process group)."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# Process groups this run started and has not stopped yet: killed at exit whatever
# happened (an exception, a closed stdout, SIGTERM), so no server outlives the run.
_STARTED: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:
    for pgid in list(_STARTED):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        _STARTED.discard(pgid)


def _spawn(name: str, argv: list[str], *, cwd: Path, env: dict[str, str], logdir: Path) -> Managed:
    log = logdir / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _STARTED.add(proc.pid)
    return Managed(name, proc, log)


async def _stop(procs: list[Managed], grace_s: float = 10.0) -> None:
    for m in procs:
        if m.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(m.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for m in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(m.proc.wait, max(0.1, deadline - time.monotonic()))
    for m in procs:
        # the group may outlive its leader (forked workers): kill what is left of it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(m.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            m.proc.wait(2.0)
        _STARTED.discard(m.proc.pid)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        # as servers do: connections of an earlier run in TIME_WAIT must not count
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Target(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    @property
    def has_mysql(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def server_roots(self) -> list[int]:
        """Root pids of every server process (web and workers) for CPU and RSS."""
        ...

    def worker_roots(self) -> list[int]:
        """Root pids of the write-behind workers (empty when there are none)."""
        ...

    def mysql_counts(self, poll_ids: list[int]) -> dict[int, int]:
        """Ballot rows per poll in MySQL (only when has_mysql)."""
        ...

    def dead(self) -> list[str]:
        """Started processes that have exited, with the tail of their log."""
        ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class Common:
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = 2
    redis_url: str = "redis://127.0.0.1:6379/13"
    logdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="livepolls-bench-")))

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def flush_redis(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()

    async def wait_ready(self, procs: list[Managed], timeout_s: float) -> None:
        api = Api(self.base_url)
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                for m in procs:
                    if not m.alive():
                        raise ServerError(f"{m.name} exited ({m.proc.returncode}):\n{m.tail()}")
                if await api.ready():
                    # a worker that fails at import dies a moment after the web is ready
                    await asyncio.sleep(1.5)
                    dead = [m for m in procs if not m.alive()]
                    if dead:
                        m = dead[0]
                        raise ServerError(f"{m.name} exited ({m.proc.returncode}):\n{m.tail()}")
                    return
                await asyncio.sleep(0.25)
            tails = "\n".join(f"--- {m.name}\n{m.tail()}" for m in procs)
            raise ServerError(f"{self.base_url}/readyz not ready after {timeout_s}s\n{tails}")
        finally:
            await api.aclose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of the run's own, on a free port, persistence off (or AOF everysec).

    The shared Redis on 6379 serves other jobs too: their commands queue with ours on its
    single thread, their CPU would be charged to our votes, and pub/sub channels are
    global across logical dbs, so another job publishing on `{p:1}:ch` would reach our
    room 1. A private server per target avoids all three."""

    def __init__(self, logdir: Path, *, aof: bool = False, binary: str = "redis-server") -> None:
        self.logdir = logdir
        self.aof = aof
        self.binary = binary
        self.port = 0
        self.proc: Managed | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> str:
        if shutil.which(self.binary) is None:
            raise ServerError(f"{self.binary} not found: pass --redis shared to use 6379")
        self.port = _free_port()
        datadir = self.logdir / f"redis-{self.port}"
        datadir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        argv += ["--dir", str(datadir), "--maxclients", "10000", "--daemonize", "no"]
        argv += (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if self.aof
            else [
                "--appendonly",
                "no",
            ]
        )
        self.proc = _spawn(
            f"redis-{self.port}", argv, cwd=datadir, env=dict(os.environ), logdir=self.logdir
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise ServerError(f"redis-server exited:\n{self.proc.tail()}")
            try:
                client = redis.Redis.from_url(self.url, socket_timeout=1)
                client.ping()
                client.close()
                return self.url
            except redis.RedisError:
                await asyncio.sleep(0.1)
        raise ServerError("redis-server did not answer PING within 10 s")

    async def stop(self) -> None:
        if self.proc is not None:
            await _stop([self.proc], grace_s=5.0)
            shutil.rmtree(self.logdir / f"redis-{self.port}", ignore_errors=True)

    def pid(self) -> int | None:
        return self.proc.proc.pid if self.proc is not None else None


def _procfile(repo: Path) -> dict[str, str]:
    out = {}
    for line in (repo / "Procfile").read_text().splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            name, _, cmd = line.partition(":")
            out[name.strip()] = cmd.strip()
    return out


def _expand(cmd: str, env: dict[str, str]) -> str:
    """${VAR:-default} and $VAR as a shell would, from env."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        default = m.group(2) or ""
        return env.get(name) or default

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", sub, cmd)


class ScratchDb:
    """A MySQL database of the run's own: created at start, dropped at the end (unless
    kept), and the ballot rows per poll that the checks compare with the acks. Both
    targets persist into a `ballots` table keyed by (poll_id, user_id)."""

    def __init__(self, mysql_url: str, prefix: str, *, keep: bool = False) -> None:
        self.mysql = urlparse(mysql_url)
        self.name = f"{prefix}_{time.strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(3)}"
        self.keep = keep
        self._conn: Any = None
        # Scenarios query from several threads at once (asyncio.to_thread); one pymysql
        # connection must not carry two queries at a time.
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        m = self.mysql
        auth = m.username or "root"
        if m.password:
            auth += f":{m.password}"
        return f"mysql://{auth}@{m.hostname or '127.0.0.1'}:{m.port or 3306}/{self.name}"

    def _connect(self, db: str | None = None) -> Any:
        return pymysql.connect(
            host=self.mysql.hostname or "127.0.0.1",
            port=self.mysql.port or 3306,
            user=self.mysql.username or "root",
            password=self.mysql.password or "",
            database=db,
            autocommit=True,
        )

    def create(self) -> None:
        conn = self._connect()
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
        conn.close()

    def open(self) -> None:
        self._conn = self._connect(self.name)

    def drop(self) -> None:
        """Safe whether or not the database was created."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if not self.keep:
            conn = self._connect()
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
            conn.close()

    def ballot_rows(self, poll_ids: list[int]) -> dict[int, int]:
        if not poll_ids:
            return {}
        with self._lock, self._conn.cursor() as cur:
            marks = ",".join(["%s"] * len(poll_ids))
            sql = (
                f"SELECT poll_id, COUNT(*) FROM ballots WHERE poll_id IN ({marks}) GROUP BY poll_id"
            )
            cur.execute(sql, poll_ids)
            rows = cur.fetchall()
        out = dict.fromkeys(poll_ids, 0)
        out.update({int(p): int(n) for p, n in rows})
        return out


class Livepolls(Common):
    name = "livepolls"
    has_mysql = True

    def __init__(
        self,
        *,
        repo: Path = REPO,
        python: str = sys.executable,
        port: int = 8200,
        web_workers: int = 2,
        arq_workers: int = 1,
        redis_url: str = "redis://127.0.0.1:6379/13",
        mysql_url: str = "mysql://root@127.0.0.1:3306",
        keep_db: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(port=port, web_workers=web_workers, redis_url=redis_url)
        self.repo = repo
        self.python = python
        self.arq_workers = arq_workers
        self.scratch = ScratchDb(mysql_url, "bench", keep=keep_db)
        self.extra_env = extra_env or {}
        self.web: Managed | None = None
        self.workers: list[Managed] = []

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        venv_bin = str(Path(self.python).parent)
        env.update(
            {
                "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
                "APP_ENV": "production",
                "HOST": self.host,
                "PORT": str(self.port),
                "WEB_CONCURRENCY": str(self.web_workers),
                "DATABASE_URL": self.scratch.url,
                "REDIS_URL": self.redis_url,
                "JWT_SECRET": secrets.token_urlsafe(48)[:64],
                "ALLOWED_ORIGINS": f"http://127.0.0.1:{self.port},http://localhost:{self.port}",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                # the checkout under test, ahead of any editable install of another one
                "PYTHONPATH": str(self.repo) + os.pathsep + env.get("PYTHONPATH", ""),
            }
        )
        env.update(self.extra_env)
        return env

    async def start(self) -> None:
        if not _port_free(self.port):
            raise ServerError(f"port {self.port} is in use")
        self.scratch.create()
        self.flush_redis()
        env = self.env()
        migrate = await asyncio.to_thread(
            subprocess.run,
            [self.python, "-m", "aerich", "-c", "aerich.ini", "upgrade"],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if migrate.returncode != 0:
            raise ServerError(f"aerich upgrade failed:\n{migrate.stdout}\n{migrate.stderr}")
        procfile = _procfile(self.repo)
        self.web = _spawn(
            "web",
            ["bash", "-c", "exec " + _expand(procfile["web"], env)],
            cwd=self.repo,
            env=env,
            logdir=self.logdir,
        )
        for i in range(self.arq_workers):
            self.workers.append(
                _spawn(
                    f"worker{i}",
                    ["bash", "-c", "exec " + _expand(procfile["worker"], env)],
                    cwd=self.repo,
                    env=env,
                    logdir=self.logdir,
                )
            )
        await self.wait_ready([self.web, *self.workers], 90.0)
        self.scratch.open()

    async def stop(self) -> None:
        """Safe after a partial start: stops what runs, drops the database if created."""
        await _stop([m for m in [self.web, *self.workers] if m is not None])
        self.scratch.drop()
        with contextlib.suppress(redis.RedisError):
            self.flush_redis()

    def server_roots(self) -> list[int]:
        return [m.proc.pid for m in [self.web, *self.workers] if m is not None]

    def worker_roots(self) -> list[int]:
        return [m.proc.pid for m in self.workers]

    def dead(self) -> list[str]:
        return [
            f"{m.name} exited ({m.proc.returncode}): {m.tail(10)}"
            for m in [self.web, *self.workers]
            if m is not None and not m.alive()
        ]

    def mysql_counts(self, poll_ids: list[int]) -> dict[int, int]:
        return self.scratch.ballot_rows(poll_ids)

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "url": self.base_url,
            "web_workers": self.web_workers,
            "arq_workers": self.arq_workers,
            "database": self.scratch.name,
            "redis_url": self.redis_url,
            "procfile": _procfile(self.repo),
            "logs": str(self.logdir),
        }


def prepare_node_dir(source: Path = NODE_SEED, dest: Path | None = None) -> Path:
    """A private, installed copy of the node peer (its source dir is read-only)."""
    dest = dest or Path(tempfile.gettempdir()) / "livepolls-bench-node-seed"
    if not (dest / "node_modules").is_dir() or not (dest / "src" / "server.js").exists():
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(source, dest)
        for path in [dest, *dest.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        npm = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=dest,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if npm.returncode != 0:
            raise ServerError(f"npm ci failed in {dest}:\n{npm.stdout}\n{npm.stderr}")
    return dest


class NodePeer(Common):
    """The peer with the seed's whole design: with `persist` (the default) its
    vote-worker processes drain every outbox into MySQL `ballots` on a scratch database,
    the same work our arq drainer does; without, the front end alone."""

    name = "node"

    def __init__(
        self,
        *,
        node_dir: Path | None = None,
        port: int = 8100,
        web_workers: int = 2,
        redis_url: str = "redis://127.0.0.1:6379/14",
        persist: bool = True,
        vote_workers: int = 1,
        mysql_url: str = "mysql://root@127.0.0.1:3306",
        keep_db: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(port=port, web_workers=web_workers, redis_url=redis_url)
        self.node_dir = node_dir
        self.extra_env = extra_env or {}
        self.proc: Managed | None = None
        self.vote_workers = vote_workers if persist else 0
        self.scratch = ScratchDb(mysql_url, "bench_node", keep=keep_db) if persist else None

    @property
    def has_mysql(self) -> bool:
        return self.scratch is not None

    async def start(self) -> None:
        if not _port_free(self.port):
            raise ServerError(f"port {self.port} is in use")
        self.node_dir = await asyncio.to_thread(prepare_node_dir, dest=self.node_dir)
        self.flush_redis()
        if self.scratch is not None:
            self.scratch.create()  # the vote workers create their table in it
        env = dict(os.environ)
        env.update(
            {
                "HOST": self.host,
                "PORT": str(self.port),
                "WORKERS": str(self.web_workers),
                "REDIS_URL": self.redis_url,
                "JWT_SECRET": secrets.token_urlsafe(48)[:64],
                "ALLOWED_ORIGINS": f"http://127.0.0.1:{self.port},http://localhost:{self.port}",
                "NODE_ENV": "production",
            }
        )
        if self.scratch is not None:
            env.update({"MYSQL_URL": self.scratch.url, "VOTE_WORKERS": str(self.vote_workers)})
        else:
            env.pop("MYSQL_URL", None)
        env.update(self.extra_env)
        self.proc = _spawn(
            "node", ["node", "src/server.js"], cwd=self.node_dir, env=env, logdir=self.logdir
        )
        await self.wait_ready([self.proc], 30.0)
        if self.scratch is not None:
            self.scratch.open()
            deadline = time.monotonic() + 30
            while len(self.worker_roots()) < self.vote_workers:
                if time.monotonic() > deadline:
                    raise ServerError(f"the peer's vote workers did not start:\n{self.proc.tail()}")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self.proc is not None:
            await _stop([self.proc])
        if self.scratch is not None:
            self.scratch.drop()
        with contextlib.suppress(redis.RedisError):
            self.flush_redis()

    def server_roots(self) -> list[int]:
        return [self.proc.proc.pid] if self.proc is not None else []

    def worker_roots(self) -> list[int]:
        """The vote-worker processes the cluster primary forked (NODE_SEED_ROLE=vote)."""
        if self.proc is None or self.scratch is None:
            return []
        return [
            pid
            for pid in procstats.descendants([self.proc.proc.pid])
            if b"NODE_SEED_ROLE=vote" in _environ(pid)
        ]

    def dead(self) -> list[str]:
        p = self.proc
        return [f"node exited ({p.proc.returncode}): {p.tail(10)}"] if p and not p.alive() else []

    def mysql_counts(self, poll_ids: list[int]) -> dict[int, int]:
        if self.scratch is None:
            raise NotImplementedError("the node peer runs without a database (front end only)")
        return self.scratch.ballot_rows(poll_ids)

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "url": self.base_url,
            "web_workers": self.web_workers,
            "vote_workers": self.vote_workers,
            "database": self.scratch.name if self.scratch is not None else None,
            "node_dir": str(self.node_dir),
            "redis_url": self.redis_url,
            "logs": str(self.logdir),
        }


class External:
    """A server somebody else started; nothing is started, stopped or flushed."""

    has_mysql = False

    def __init__(self, url: str, *, name: str = "external", pids: list[int] | None = None) -> None:
        self.name = name
        self.base_url = url.rstrip("/")
        self.pids = pids or []

    async def start(self) -> None:
        api = Api(self.base_url)
        try:
            if not await api.ready():
                raise ServerError(f"{self.base_url}/readyz is not 200")
        finally:
            await api.aclose()

    async def stop(self) -> None:
        return None

    def server_roots(self) -> list[int]:
        return list(self.pids)

    def worker_roots(self) -> list[int]:
        return []

    def dead(self) -> list[str]:
        return [f"pid {p} is gone" for p in self.pids if not Path(f"/proc/{p}").exists()]

    def mysql_counts(self, poll_ids: list[int]) -> dict[int, int]:
        raise NotImplementedError("no database access for an external server")

    def describe(self) -> dict[str, Any]:
        return {"target": self.name, "url": self.base_url, "pids": self.pids}


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def redis_cpu_s(url: str) -> float:
    """CPU seconds the Redis server has used (INFO cpu), to charge it per vote."""
    client = redis.Redis.from_url(url)
    try:
        info = cast(dict[str, Any], client.info("cpu"))
    finally:
        client.close()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
