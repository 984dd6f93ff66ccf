"""Flood control for the fake Bot API.

Algorithm: a *sliding-window log*.  Every accepted send call records its timestamp
(``clock()``, ``time.monotonic`` by default) in up to three buckets:

* the private chat bucket: ``max(1, round(private_per_second))`` messages per
  ``count / private_per_second`` seconds (1.0/s -> 1 message per 1 s window),
* the group bucket (groups and supergroups): ``group_per_minute`` messages per 60 s,
* the global bucket: ``global_per_second`` messages per 1 s.

A call is rejected (and not recorded) when a bucket already holds ``limit`` timestamps that
are younger than its window.  ``retry_after`` is the time until the oldest of those
timestamps leaves the window, rounded up to whole seconds and at least 1 - the same integer
Telegram puts into ``parameters.retry_after``.  Waiting that long always makes the next call
pass, so the behaviour is deterministic given the clock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class RateLimitConfig:
    enabled: bool = False
    private_per_second: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int
    window: float


class SlidingWindowLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._log: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self._log.clear()

    def buckets_for(self, config: RateLimitConfig, chat_id: int, private: bool) -> list[Bucket]:
        buckets = [Bucket("global", max(1, int(config.global_per_second)), 1.0)]
        if private:
            rate = max(config.private_per_second, 1e-9)
            count = max(1, round(rate))
            buckets.append(Bucket(f"chat:{chat_id}", count, count / rate))
        else:
            buckets.append(Bucket(f"chat:{chat_id}", max(1, int(config.group_per_minute)), 60.0))
        return buckets

    def hit(self, buckets: list[Bucket]) -> int | None:
        """Record a call; return None if allowed, else the retry_after in whole seconds."""
        now = self.clock()
        retry: float | None = None
        for bucket in buckets:
            log = self._log.setdefault(bucket.key, deque())
            while log and now - log[0] >= bucket.window:
                log.popleft()
            if len(log) >= bucket.limit:
                wait = log[len(log) - bucket.limit] + bucket.window - now
                retry = wait if retry is None else max(retry, wait)
        if retry is not None:
            return max(1, math.ceil(retry - 1e-9))
        for bucket in buckets:
            self._log[bucket.key].append(now)
        return None
