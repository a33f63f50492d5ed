"""Logging for every process (web, worker, admin CLI): one line per event on stderr.

`setup_logging(settings)` gives the root logger the one handler that writes lines, and
takes the handlers off the loggers that libraries configure for themselves (Sanic's,
arq's), so each of their records goes through ours once instead of twice. Records
keep propagating, so handlers someone else put on the root (pytest's capture) still
see them. Calling it again replaces our handler; it is idempotent.

`LOG_FORMAT=text` (default): `time LEVEL logger: message key=value ...`.
`LOG_FORMAT=json`: one JSON object per line, `time`, `level`, `logger`, `message`,
the `extra` fields of the call (`poll_id`, ...), `request_id` while an HTTP request
is served (set by app/http/request_ids.py in a context variable, so it reaches every
line logged by the code serving that request, its tasks included) and `exc` with
the traceback. Stdlib logging plus orjson (already ours): the formatter is 30 lines.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from app.config import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# Loggers that come with handlers of their own (Sanic's dictConfig, arq's CLI).
LIBRARY_LOGGERS = (
    "arq",
    "sanic.root",
    "sanic.error",
    "sanic.access",
    "sanic.server",
    "sanic.websockets",
)
# What a LogRecord carries by itself; anything else on it came as `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# Sanic's own debug chatter ("Dispatching signal" per request) is marked verbosity >= 1.
_SANIC_NOISE = {"verbosity"}
# arq logs every job's start and end at INFO; the reconcile cron runs every few seconds
# and logs its own outcome (workers/jobs.py), so its arq lines are demoted to DEBUG.
QUIET_CRONS = ("cron:reconcile_polls",)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _STANDARD and k not in _SANIC_NOISE
    }


class ContextFilter(logging.Filter):
    """Adds the request id of the request being served, and drops Sanic's verbose lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "verbosity", 0) > 0:
            return False
        if "request_id" not in record.__dict__:
            request_id = REQUEST_ID.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class QuietCronFilter(logging.Filter):
    """Demotes arq's per-run lines of QUIET_CRONS to DEBUG (on the `arq.worker` logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and any(
            arg in QUIET_CRONS for arg in (record.args if isinstance(record.args, tuple) else ())
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the fields
        fields = " ".join(f"{k}={v}" for k, v in extras.items())
        return f"{head} {fields}{sep}{tail}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(out, default=str).decode()


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (pytest swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def library_log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict that leaves the library loggers without
    handlers of their own, propagating to the root (arq's `--custom-log-dict`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "incremental": False,
        "loggers": {
            name: {"level": settings.log_level, "handlers": [], "propagate": True}
            for name in LIBRARY_LOGGERS
        },
    }


def setup_logging(settings: Settings) -> None:
    logging.config.dictConfig(library_log_config(settings))
    arq_worker = logging.getLogger("arq.worker")
    if not any(isinstance(f, QuietCronFilter) for f in arq_worker.filters):
        arq_worker.addFilter(QuietCronFilter())
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, LineHandler)]:
        root.removeHandler(handler)
    handler = LineHandler()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
