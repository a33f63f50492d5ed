"""Replace a web worker process that died, as a process supervisor would.

Sanic's worker manager notices that a worker process is gone (it marks it FAILED)
but neither logs it nor starts another: a worker killed by the OOM killer or a
SIGKILL silently took its share of the capacity with it, while the main process
kept accepting connections for the survivors. It does restart a worker when asked
to through its monitor pipe (the message is the process name; auto-reload and the
inspector use the same pipe), so a thread of the main process watches the server
processes and asks for a new one when one died after it had started serving. The
listening socket belongs to the main process, so it never stops accepting.

A worker that keeps dying soon after each start is restarted with a delay that
doubles up to `MAX_DELAY_S`, not in a tight loop.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from sanic.worker.constants import ProcessState
from sanic.worker.manager import WorkerManager
from sanic.worker.process import WorkerProcess

log = logging.getLogger("livepolls.supervisor")

CHECK_EVERY_S = 0.5
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0
# A worker that ran this long before dying is not crash-looping: no delay.
STABLE_S = 30.0
# A worker acks once it serves; a dead one is marked FAILED (or COMPLETED on exit 0).
_SERVING = (ProcessState.ACKED,)
_GONE = (ProcessState.FAILED, ProcessState.COMPLETED)


def exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


class WorkerSupervisor:
    def __init__(self, manager: WorkerManager) -> None:
        self._manager = manager
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)
        self._serving: dict[str, tuple[int, float]] = {}  # name -> (pid, seen serving at)
        self._delay: dict[str, float] = {}
        self._due: dict[str, tuple[int, float]] = {}  # name -> (dead pid, restart at)
        self._asked: dict[str, int] = {}  # name -> the dead pid a restart was asked for

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            # Sanic terminates its workers when it shuts down: those stay down.
            if getattr(self._manager, "_shutting_down", False):
                return
            try:
                self._check()
            except Exception:
                log.exception("checking the web worker processes failed")

    def _servers(self) -> list[Any]:
        return [
            process
            for worker in list(self._manager.transient.values())
            for process in worker.processes
            if WorkerProcess.SERVER_LABEL in process.name
        ]

    def _check(self) -> None:
        """Sanic marks a dead process FAILED (COMPLETED on exit 0) only once every
        worker acked its start: a worker that fails to start is Sanic's to handle."""
        now = time.monotonic()
        for process in self._servers():
            name, pid = process.name, process.pid
            if process.state in _SERVING and self._serving.get(name, (0, 0.0))[0] != pid:
                self._serving[name] = (pid, now)
            if process.state not in _GONE or self._asked.get(name) == pid or process.is_alive():
                continue
            if self._due.get(name, (0, 0.0))[0] != pid:
                served_pid, since = self._serving.get(name, (0, now))
                stable = served_pid == pid and now - since >= STABLE_S
                delay = 0.0 if stable else self._delay.get(name, FIRST_DELAY_S)
                self._delay[name] = FIRST_DELAY_S if stable else min(delay * 2, MAX_DELAY_S)
                self._due[name] = (pid, now + delay)
                log.error(
                    "web worker %s (pid %d) died (%s); starting a new one%s",
                    name,
                    pid,
                    exit_reason(process.exitcode),
                    f" in {delay:.1f} s" if delay else "",
                )
            if now >= self._due[name][1]:
                self._asked[name] = pid
                self._manager.monitor_publisher.send(name)
