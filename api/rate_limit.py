"""Per-key request limits (token buckets in this process's memory).

Each key (for public browser keys: each key and client IP, since one key serves a whole
fair's visitors) has a bucket of a sixth of its per-minute allowance, refilled continuously.
An empty bucket answers 429 with Retry-After. Limits are per process: behind several
workers, each enforces its own share.
"""

from __future__ import annotations

import math
import threading
import time

from core.errors import RateLimited

_MAX_BUCKETS = 100_000  # forget idle buckets beyond this many (memory bound)


class RateLimiter:
    def __init__(self, per_minute_by_role: dict[str, int]) -> None:
        self._per_minute = per_minute_by_role
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # → (tokens, updated)
        self._lock = threading.Lock()

    def check(self, role: str, key_id: str, client: str) -> None:
        per_minute = self._per_minute.get(role, 0)
        if per_minute <= 0:
            return
        capacity = max(5.0, per_minute / 6)
        rate = per_minute / 60.0
        bucket_key = (key_id, client if role == "public" else "")
        now = time.monotonic()
        with self._lock:
            tokens, updated = self._buckets.get(bucket_key, (capacity, now))
            tokens = min(capacity, tokens + (now - updated) * rate)
            if tokens < 1.0:
                self._buckets[bucket_key] = (tokens, now)
                retry_after = max(1, math.ceil((1.0 - tokens) / rate))
                raise RateLimited(
                    f"rate limit of {per_minute} requests per minute exceeded",
                    retry_after_s=retry_after,
                )
            if len(self._buckets) >= _MAX_BUCKETS and bucket_key not in self._buckets:
                self._buckets.clear()
            self._buckets[bucket_key] = (tokens - 1.0, now)
