"""Per-key request limits and the throttle on failed authentications, counted with the
``limits`` library: in Redis when ``TALENTMATCH_REDIS_URL`` is set, so every API process
behind a load balancer spends one shared allowance, else in this process's memory.

Each key (for public browser keys: each key and client IP, since one key serves a whole
fair's visitors) may send a burst of a sixth of its per-minute allowance (at least 5), and
the same again each time that share of the minute has passed (a moving window: the nearest
the library comes to a token bucket refilled continuously). Past it: 429 with Retry-After.

Redis unreachable: requests are served without limits (fail open), with a warning logged at
most once a minute; a recruiting API stays up while its counter store is down.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from core.errors import RateLimited

log = logging.getLogger(__name__)
# A request waits at most this long for Redis before it is served unlimited.
REDIS_TIMEOUT_S = 0.5


class _FailOpen:
    """After a storage failure, skips the storage for a few seconds (requests do not each wait
    out a timeout) and logs it at most once a minute (the error's type only: its arguments
    may hold client addresses)."""

    RETRY_S = 5.0

    def __init__(self) -> None:
        self._warned = -1e9
        self._down_until = -1e9
        self._lock = threading.Lock()

    def skipping(self) -> bool:
        return time.monotonic() < self._down_until

    def failed(self, exc: StorageError) -> None:
        with self._lock:
            now = time.monotonic()
            self._down_until = now + self.RETRY_S
            if now - self._warned < 60:
                return
            self._warned = now
        log.warning("rate limit store unavailable, serving without limits: %s",
                    type(exc.storage_error).__name__)  # fmt: skip


class CountStore:
    """A ``limits`` storage and its health, shared by the request limits and the throttle."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.down = _FailOpen()


def count_store(redis_url: str | None) -> CountStore:
    """Where counts live: Redis (shared by every process) when a URL is set, else memory."""
    if not redis_url:
        return CountStore(MemoryStorage())
    return CountStore(RedisStorage(
        redis_url, key_prefix="talentmatch", wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S,
    ))  # fmt: skip


class RateLimiter:
    """Request limits per key (and client, for public keys), by role, per minute."""

    def __init__(self, per_minute_by_role: dict[str, int], store: CountStore | None = None) -> None:
        self._per_minute = per_minute_by_role
        self._store = store or count_store(None)
        self._limiter = MovingWindowRateLimiter(self._store.storage)

    @staticmethod
    def _item(per_minute: int) -> RateLimitItem:
        """``per_minute`` as a burst and the seconds it takes to earn it again."""
        burst = max(5, per_minute // 6)
        return RateLimitItemPerSecond(burst, max(1, math.ceil(burst * 60 / per_minute)),
                                      namespace="rate")  # fmt: skip

    def check(self, role: str, key_id: str, client: str) -> None:
        """Count one request; raises ``RateLimited`` (with Retry-After) past the limit."""
        per_minute = self._per_minute.get(role, 0)
        if per_minute <= 0:
            return
        if self._store.down.skipping():
            return
        item = self._item(per_minute)
        who = (key_id, client if role == "public" else "")
        try:
            if self._limiter.hit(item, *who):
                return
            reset_at = self._limiter.get_window_stats(item, *who).reset_time
        except StorageError as exc:
            self._store.down.failed(exc)
            return
        raise RateLimited(
            f"rate limit of {per_minute} requests per minute exceeded",
            retry_after_s=max(1, math.ceil(reset_at - time.time())),
        )


class WindowCounter(Protocol):
    """Counts events per key in fixed windows that start at a key's first event (INCR +
    EXPIRE in Redis)."""

    def hit(self, key: str, window_s: float) -> int:
        """Count one event; returns the key's count in its current window."""
        ...

    def peek(self, key: str) -> tuple[int, float]:
        """The key's count in its current window and the seconds until that window ends."""
        ...


class StorageWindowCounter:
    """``WindowCounter`` in a ``limits`` storage (memory or Redis); counts 0 while the
    storage is unreachable."""

    def __init__(self, store: CountStore | None = None) -> None:
        self._store = store or count_store(None)
        self._storage = self._store.storage

    def hit(self, key: str, window_s: float) -> int:
        if self._store.down.skipping():
            return 0
        try:
            return self._storage.incr(f"throttle/{key}", max(1, math.ceil(window_s)))
        except StorageError as exc:
            self._store.down.failed(exc)
            return 0

    def peek(self, key: str) -> tuple[int, float]:
        if self._store.down.skipping():
            return (0, 0.0)
        try:
            count = self._storage.get(f"throttle/{key}")
            remaining = self._storage.get_expiry(f"throttle/{key}") - time.time()
        except StorageError as exc:
            self._store.down.failed(exc)
            return (0, 0.0)
        return (count, remaining) if count > 0 and remaining > 0 else (0, 0.0)


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
        self._counter = counter or StorageWindowCounter()

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
