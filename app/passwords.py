"""Password hashing: argon2id via argon2-cffi, always off the event loop.

One hash with the default cost takes ~345 ms and 64 MiB, so hashing and verifying
run on a small dedicated thread pool (argon2-cffi releases the GIL while it works):
the event loop keeps serving, the pool bounds how many 64 MiB buffers exist at once,
and asyncio's default executor stays free for DNS lookups and the like. Callers
rate-limit before they get here (app.ratelimit).

Passwords are hashed as UTF-8 with no length cut-off (unlike bcrypt's 72 bytes); the
request schemas cap them at 128 characters.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app import metrics
from app.config import Settings

T = TypeVar("T")


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


@functools.cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Same parameters as real hashes, so verifying against it costs the same time.
    return hasher.hash(secrets.token_urlsafe(16))


def hasher_for(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


async def _off_loop(op: str, work: Callable[[], T]) -> T:
    def timed() -> T:
        started = time.perf_counter()
        try:
            return work()
        finally:
            metrics.PASSWORD_HASHING.labels(op).observe(time.perf_counter() - started)

    return await asyncio.get_running_loop().run_in_executor(_pool(), timed)


async def hash_password(*, settings: Settings, password: str) -> str:
    """The argon2id hash to store for `password`."""
    hasher = hasher_for(settings)
    return await _off_loop("hash", lambda: hasher.hash(password))


async def verify_password(*, settings: Settings, password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash, spend the same time so callers cannot tell."""
    hasher = hasher_for(settings)

    def check() -> bool:
        try:
            if not password_hash:
                hasher.verify(_dummy_hash(hasher), password)  # the same work, then "no"
                return False
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await _off_loop("verify", check)


def needs_rehash(*, settings: Settings, password_hash: str) -> bool:
    """Whether a stored (valid) hash was made with other parameters than the configured ones."""
    return hasher_for(settings).check_needs_rehash(password_hash)
