"""`python -m app.serve`: the Procfile's `web` process, Sanic's server and its workers.

The `sanic` CLI has no flag for the listen backlog and keeps Sanic's default of 100
pending connections. When a room of phones reconnects at once (the hall's Wi-Fi came
back), thousands of SYNs arrive within a second while the workers are busy with
handshakes; past 100 the kernel dropped them and those clients sat out TCP's
retransmission timers. In the bench's 10,000-client storm that was 389-774 clients
giving up after 10 s and retrying, all back after 11.5 s; with LISTEN_BACKLOG 2048
none retried and all were back in 7.1 s. So the web process starts Sanic the
documented programmatic way (AppLoader + Sanic.serve), with the same flags as the CLI
it replaces, the backlog from the settings, and the protocol that puts a total
deadline on request headers (app/header_deadline.py). Its main process also
replaces a worker process that died (app/worker_supervisor.py), which Sanic does not.
"""

from __future__ import annotations

import argparse
import sys

from sanic import Sanic
from sanic.worker.loader import AppLoader

from app.config import SettingsError, load_settings
from app.context import App
from app.header_deadline import HeaderDeadlineProtocol
from app.main import create_app
from app.worker_supervisor import WorkerSupervisor


def supervise_workers(app: App) -> None:
    """Replace worker processes that die (app/worker_supervisor.py), in the main process."""
    supervisor: list[WorkerSupervisor] = []

    async def start(app: App) -> None:
        supervisor.append(WorkerSupervisor(app.manager))
        supervisor[0].start()

    async def stop(app: App) -> None:
        for each in supervisor:
            each.stop()

    app.register_listener(start, "main_process_ready")
    app.register_listener(stop, "main_process_stop")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"livepolls: {exc}", file=sys.stderr)
        return 2
    # Each worker process calls the factory again, as `sanic --factory` does.
    loader = AppLoader(factory=create_app)
    app = loader.load()
    app.prepare(
        host=args.host,
        port=args.port,
        workers=args.workers,
        backlog=settings.listen_backlog,
        protocol=HeaderDeadlineProtocol,
    )
    supervise_workers(app)
    Sanic.serve(primary=app, app_loader=loader)
    return 0


if __name__ == "__main__":
    sys.exit(main())
