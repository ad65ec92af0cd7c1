"""A search backend that records what the outbox consumer applies to it, for tests about
which process applies which event (not about any engine's search)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from search_index.protocol import IndexDocument


class RecordingIndex:
    """Keeps every upsert and delete in order; ``on_upsert`` runs inside each upsert (a test
    can hold a consumer there, mid-batch)."""

    def __init__(self, on_upsert: Callable[[Sequence[IndexDocument]], None] | None = None) -> None:
        self.upserted: list[int] = []
        self.deleted: list[int] = []
        self.titles: dict[int, str] = {}
        self.on_upsert = on_upsert
        self._lock = threading.Lock()
        self._applied_through: int | None = 0

    def upsert(self, documents: Sequence[IndexDocument]) -> None:
        if self.on_upsert is not None:
            self.on_upsert(documents)
        with self._lock:
            for document in documents:
                self.upserted.append(document.id)
                self.titles[document.id] = document.title

    def delete(self, ids: Sequence[int]) -> None:
        with self._lock:
            self.deleted.extend(ids)

    def commit(self) -> None:
        return None

    def checkpoint(self, applied_through: int | None = None) -> None:
        if applied_through is not None:
            self._applied_through = applied_through

    def applied_through(self) -> int | None:
        return self._applied_through

    def clear(self) -> None:
        with self._lock:
            self.titles.clear()

    def count(self) -> int:
        return len(self.titles)

    def close(self) -> None:
        return None
