"""Riding out a dependency that went away: capped, jittered backoff and quiet logs.

A loop that talks to Redis (the pub/sub listener, the presence heartbeat, the outbox
drainer, the arq worker's poll loop) keeps one `Outage` and reports each try to it.
While Redis is down every try fails at once, so a loop that logged each failure wrote
a traceback every half second; an `Outage` writes one warning when the failures
start, a reminder every `remind_s` while they last and one line when a try succeeds
again. The delays double from `first_s` up to `cap_s`, each drawn from its upper
half ("equal jitter"): processes that lost Redis together do not all come back in
the same instant, and none waits much longer than the cap once Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

REMIND_S = 30.0


class Outage:
    def __init__(
        self,
        log: logging.Logger,
        what: str,
        *,
        first_s: float = 0.05,
        cap_s: float = 2.0,
        remind_s: float = REMIND_S,
    ) -> None:
        self._log = log
        self._what = what
        self._first_s = first_s
        self._cap_s = cap_s
        self._remind_s = remind_s
        self._delay = first_s
        self._since = 0.0  # monotonic start of the current outage; 0 while none
        self._reminded = 0.0
        self.failures = 0

    @property
    def ongoing(self) -> bool:
        return self._since > 0

    def failed(self, exc: BaseException) -> float:
        """Note a failed try; returns how long to wait before the next one."""
        now = time.monotonic()
        self.failures += 1
        why = f"{type(exc).__name__}: {exc}"[:300]
        if not self._since:
            self._since = self._reminded = now
            self._log.warning("%s failed (%s); retrying with backoff", self._what, why)
        elif now - self._reminded >= self._remind_s:
            self._reminded = now
            self._log.warning(
                "%s still failing after %.0f s (%d tries): %s",
                self._what,
                now - self._since,
                self.failures,
                why,
            )
        delay = self._delay
        self._delay = min(self._delay * 2, self._cap_s)
        return random.uniform(delay / 2, delay)

    async def wait(self, exc: BaseException) -> None:
        """`failed`, then sleep the delay it returned."""
        await asyncio.sleep(self.failed(exc))

    def recovered(self) -> None:
        """Note a successful try: ends the outage (with one line) if there was one."""
        if self._since:
            self._log.warning(
                "%s works again after %.1f s (%d failed tries)",
                self._what,
                time.monotonic() - self._since,
                self.failures,
            )
        self._since = 0.0
        self._delay = self._first_s
        self.failures = 0
