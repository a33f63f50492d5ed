"""`python -m app.run`: the whole service in one command (what `make run` calls).

Starts the embedded Redis when REDIS_URL is unset, prepares the schema (aerich
migrations on MySQL, generated tables on SQLite), then runs the Procfile's `web`
and `worker` processes with honcho until Ctrl-C. Should one of them exit anyway (the
worker rides out a Redis restart, see workers/worker.py), honcho stops the other and
the launcher exits non-zero saying so. Production runs the Procfile
directly with its own REDIS_URL / DATABASE_URL and the `release` step.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from honcho.manager import Manager

from app.config import Settings, SettingsError, load_settings
from app.db import close_db, open_db
from app.metrics import prepare_multiprocess_dir, remove_multiprocess_dir

ROOT = Path(__file__).resolve().parent.parent
# honcho's return code after Ctrl-C (SIGINT) or SIGTERM: an ordinary stop.
STOPPED_BY_SIGNAL = (130, 143)


def prepare_schema(settings: Settings, env: dict[str, str]) -> None:
    if settings.is_mysql:
        subprocess.run(
            [sys.executable, "-m", "aerich", "-c", "aerich.ini", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        return

    async def generate() -> None:
        await open_db(settings, generate_schemas=True)
        await close_db()

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(generate())


def procfile_commands() -> dict[str, str]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() in {"web", "worker"}:
            commands[name.strip()] = command.strip()
    return commands


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"livepolls: {exc}", file=sys.stderr)
        return 2

    env = dict(os.environ)
    # The Procfile names `python`, `arq` and `aerich`: find them next to this Python.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("HOST", settings.host)
    env.setdefault("PORT", str(settings.port))
    env.setdefault("WEB_CONCURRENCY", "2")
    embedded_server = None
    if settings.embedded_redis:
        from app.embedded import start_redis

        embedded_server, env["REDIS_URL"] = start_redis(settings.data_dir)
        print(f"livepolls: embedded Redis at {env['REDIS_URL']}")
    if not settings.database_url:
        env["DATABASE_URL"] = settings.resolved_database_url
        print(f"livepolls: embedded SQLite at {env['DATABASE_URL']}")
    prepare_schema(settings, env)
    # One metrics samples dir for web and worker: the web's /metrics shows both.
    metrics_dir = prepare_multiprocess_dir()
    env["PROMETHEUS_MULTIPROC_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]

    manager = Manager()
    for name, command in procfile_commands().items():
        manager.add_process(name, command, env=env, cwd=str(ROOT))
    print(f"livepolls: http://{settings.host}:{env['PORT']}  (docs at /docs)")
    manager.loop()
    del embedded_server  # keep the embedded server alive until the processes are gone
    remove_multiprocess_dir(metrics_dir)
    if manager.returncode in STOPPED_BY_SIGNAL:
        return 0
    # honcho stops every process once one exits, so no half service is left running;
    # say so, and exit non-zero so a supervisor of the launcher restarts it.
    print(
        "livepolls: a process of the service exited by itself (see its lines above), "
        "so the others were stopped too",
        file=sys.stderr,
    )
    return manager.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
