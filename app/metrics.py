"""Prometheus metrics for every process of the service.

Sanic's `--workers N` runs N processes, and a scrape reaches only one of them, so
metrics use prometheus-client's multiprocess mode: each process writes its samples
to PROMETHEUS_MULTIPROC_DIR and `/metrics` merges them. The directory must be in
the environment before prometheus_client is imported in a worker, which is why the
main process creates it (`prepare_multiprocess_dir`) before workers are spawned.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Every label value taken from a request is one of a fixed set: each distinct value is
# a series in every scrape for the life of the process (and a file of samples in
# multiprocess mode), so a client sending made-up methods grew /metrics from 25 to
# 215 KiB in 2,000 requests. Routes are the matched route's pattern or "unmatched".
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Samples of live-mode gauges, one file per process: gauge_livesum_<pid>.db, ...
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")

HTTP_REQUESTS = Counter(
    "livepolls_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "livepolls_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LOGINS = Counter("livepolls_logins_total", "Login attempts by outcome", ["outcome"])
RENEWALS = Counter(
    "livepolls_session_renewals_total",
    "POST /auth/refresh by outcome (ok, retried, refused, reused, rate_limited)",
    ["outcome"],
)
PASSWORD_HASHING = Histogram(
    "livepolls_password_hash_seconds",
    "Duration of one argon2 hash or verification, queueing excluded (op: hash, verify)",
    ["op"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
VOTES = Counter("livepolls_votes_total", "Ballots decided by the vote script", ["status"])
WS_CONNECTIONS = Gauge(
    "livepolls_ws_connections", "Open WebSocket connections", multiprocess_mode="livesum"
)
WS_FRAMES_SENT = Counter("livepolls_ws_frames_sent_total", "WebSocket frames sent", ["type"])
WS_SLOW_DROPPED = Counter(
    "livepolls_ws_slow_clients_dropped_total", "Sockets dropped for staying too slow"
)
WS_FLOOD_DROPPED = Counter(
    "livepolls_ws_flooding_clients_dropped_total",
    "Sockets closed (1008) for sending far past their message budget",
)
BROADCAST_FLUSH = Histogram(
    "livepolls_broadcast_flush_seconds",
    "Time to hand one room's RESULTS frame to all its local sockets",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
SESSION_SHOW = Histogram(
    "livepolls_session_show_seconds",
    "Time for a session room to show its local members a change (or a batch of joiners "
    "the state): moving them into the poll's room, reading their ballots, sending",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OUTBOX_PERSISTED = Counter("livepolls_outbox_persisted_total", "Ballots written to the database")
OUTBOX_BATCH_ROWS = Histogram(
    "livepolls_outbox_batch_rows",
    "Ballots per database write of the outbox drain",
    buckets=(1, 10, 50, 100, 500, 1000, 5000, 10_000),
)
OUTBOX_LAG = Histogram(
    "livepolls_outbox_lag_seconds",
    "Time from a ballot's ack to its commit in the database",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Each reconcile pass measures the drift of every poll, whichever worker runs it: the
# series is the latest pass's figure among live workers ("livemax" kept a SIGKILLed
# worker's last 22,000 forever while a live worker measured 0).
DRIFT = Gauge(
    "livepolls_redis_db_drift_ballots",
    "Ballots acked in Redis but not yet in the database, per reconcile pass",
    multiprocess_mode="livemostrecent",
)


def method_label(method: str) -> str:
    return method if method in HTTP_METHODS else "other"


def prepare_multiprocess_dir() -> Path | None:
    """Create a fresh samples directory and export it to processes spawned after this.

    Returns the directory when this call created it (and so must remove it), None when
    one was given: the launcher shares one between the web and worker processes, so
    the web's /metrics also shows the workers' drain and drift figures.
    """
    existing = os.environ.get(_ENV)
    if existing:
        Path(existing).mkdir(parents=True, exist_ok=True)
        return None
    path = Path(tempfile.mkdtemp(prefix="livepolls-metrics-"))
    os.environ[_ENV] = str(path)
    return path


def remove_multiprocess_dir(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


class _LiveProcessesCollector(multiprocess.MultiProcessCollector):
    """The merged samples, once the live gauges of processes that died are removed.

    A process stopped cleanly calls `mark_process_dead`; one that was SIGKILLed (or
    crashed) never does, and its live gauges (open sockets, drift) counted forever.
    So every collection first removes the live-gauge files of pids no longer running.
    Counters and histograms of dead processes stay: their counts happened."""

    def collect(self) -> Any:
        forget_dead_processes(self._path)
        return super().collect()  # type: ignore[no-untyped-call]


def _multiprocess_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    _LiveProcessesCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def forget_dead_processes(path: str | Path) -> list[int]:
    """`mark_process_dead` for every pid with a live-gauge file that is not running."""
    pids = {
        int(match.group(1))
        for name in os.listdir(path)
        if (match := _LIVE_GAUGE_FILE.fullmatch(name)) is not None
    }
    dead = sorted(pid for pid in pids if not _running(pid))
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    return dead


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed child its parent has not reaped yet is a zombie: dead all the same.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def serve_standalone(port: int) -> None:
    """Expose this process's metrics on their own port (a worker on its own host)."""
    if os.environ.get(_ENV):
        start_http_server(port, registry=_multiprocess_registry())
    else:
        start_http_server(port)


def mark_process_dead(pid: int) -> None:
    if os.environ.get(_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def render() -> tuple[bytes, str]:
    """The merged exposition of every process (or this one, when not multiprocess)."""
    if os.environ.get(_ENV):
        return generate_latest(_multiprocess_registry()), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
