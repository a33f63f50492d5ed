"""Prometheus metrics for every process of the service.

Sanic's `--workers N` runs N processes, and a scrape reaches only one of them, so
metrics use prometheus-client's multiprocess mode: each process writes its samples
to PROMETHEUS_MULTIPROC_DIR and `/metrics` merges them. The directory must be in
the environment before prometheus_client is imported in a worker, which is why the
main process creates it (`prepare_multiprocess_dir`) before workers are spawned.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

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
BROADCAST_FLUSH = Histogram(
    "livepolls_broadcast_flush_seconds",
    "Time to hand one room's RESULTS frame to all its local sockets",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
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
DRIFT = Gauge(
    "livepolls_redis_db_drift_ballots",
    "Ballots acked in Redis but not yet in the database, per reconcile pass",
    multiprocess_mode="livemax",
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


def serve_standalone(port: int) -> None:
    """Expose this process's metrics on their own port (a worker on its own host)."""
    if os.environ.get(_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(port, registry=registry)
    else:
        start_http_server(port)


def mark_process_dead(pid: int) -> None:
    if os.environ.get(_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def render() -> tuple[bytes, str]:
    """The merged exposition of every process (or this one, when not multiprocess)."""
    if os.environ.get(_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
