"""A sliding-window rate limiter, per key (the backend keys it by user)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allow ``limit`` hits per key in any ``window_s`` seconds.

    :meth:`hit` records a request and returns None when it is allowed, or the
    whole seconds the caller should wait (the ``Retry-After`` value) when not.
    Refused hits are not counted, so a client that waits gets through.
    """

    def __init__(
        self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> int | None:
        """Record one request for ``key``; None if allowed, else seconds to wait (>= 1)."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window_s - now))
        hits.append(now)
        return None
