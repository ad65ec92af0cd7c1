"""Per-key request limits (token buckets in this process's memory), and the throttle on
failed authentications (fixed windows behind a small counter interface).

Each key (for public browser keys: each key and client IP, since one key serves a whole
fair's visitors) has a bucket of a sixth of its per-minute allowance, refilled continuously.
An empty bucket answers 429 with Retry-After. Limits are per process: behind several
workers, each enforces its own share.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

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


class WindowCounter(Protocol):
    """Counts events per key in fixed windows that start at a key's first event (what Redis
    gives with INCR + EXPIRE, so a shared store can replace the in-memory one)."""

    def hit(self, key: str, window_s: float) -> int:
        """Count one event; returns the key's count in its current window."""
        ...

    def peek(self, key: str) -> tuple[int, float]:
        """The key's count in its current window and the seconds until that window ends."""
        ...


class MemoryWindowCounter:
    """``WindowCounter`` in this process's memory."""

    def __init__(self, max_keys: int = _MAX_BUCKETS) -> None:
        self._windows: dict[str, tuple[int, float]] = {}  # → (count, window end)
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def hit(self, key: str, window_s: float) -> int:
        now = time.monotonic()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window_s
                if len(self._windows) >= self._max_keys:
                    self._forget_expired(now)
            self._windows[key] = (count + 1, ends)
            return count + 1

    def peek(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
        return (count, ends - now) if ends > now else (0, 0.0)

    def _forget_expired(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        if len(self._windows) >= self._max_keys:
            self._windows.clear()  # memory bound over precision under a flood


class FailedAuthThrottle:
    """Throttles guessing of API keys: failed authentications are counted per client address
    and per key id, each in one-minute windows.

    - An address past its limit gets 429 for every request, even with a valid key, until its
      window ends: it learns nothing more about any key.
    - A key id past its limit gets 429 for wrong secrets, and for right ones from addresses
      that failed themselves in this window; a right secret from an address with no
      failures still passes, so spamming a client's key id from elsewhere cannot lock that
      client out.
    """

    WINDOW_S = 60.0

    def __init__(
        self, *, per_address: int, per_key: int, counter: WindowCounter | None = None
    ) -> None:
        self._per_address = per_address
        self._per_key = per_key
        self._counter = counter or MemoryWindowCounter()

    def _refuse(self, what: str, limit: int, remaining_s: float) -> RateLimited:
        return RateLimited(
            f"too many failed authentications {what}: more than {limit} per minute",
            retry_after_s=max(1, math.ceil(remaining_s)),
        )

    def check_address(self, address: str) -> None:
        """Refuse an address that failed too often, before its key is even looked at."""
        if self._per_address <= 0:
            return
        failures, remaining = self._counter.peek(f"addr:{address}")
        if failures >= self._per_address:
            raise self._refuse("from this address", self._per_address, remaining)

    def failed(self, address: str, key_id: str | None) -> None:
        """Count a failed authentication; raises ``RateLimited`` when the key id is now
        throttled (the caller answers 401 otherwise)."""
        if self._per_address > 0:
            self._counter.hit(f"addr:{address}", self.WINDOW_S)
        if key_id is None or self._per_key <= 0:
            return
        failures = self._counter.hit(f"key:{key_id}", self.WINDOW_S)
        if failures > self._per_key:
            _, remaining = self._counter.peek(f"key:{key_id}")
            raise self._refuse("for this key", self._per_key, remaining)

    def succeeded(self, address: str, key_id: str) -> None:
        """Let a right secret through unless its key id is throttled and this address has
        failed in the window too (one guessing the key, not the client that holds it)."""
        if self._per_key <= 0:
            return
        failures, remaining = self._counter.peek(f"key:{key_id}")
        if failures < self._per_key:
            return
        own_failures, _ = self._counter.peek(f"addr:{address}")
        if own_failures > 0:
            raise self._refuse("for this key", self._per_key, remaining)
