"""A search backend that records what the outbox consumer applies to it, for tests about
which process applies which event (not about any engine's search)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from core.settings import SearchSettings
from search_index.protocol import IndexDocument


class RecordingIndex:
    """Keeps every upsert and delete in order; ``on_upsert`` runs inside each upsert (a test
    can hold a consumer there, mid-batch); ``log``: also appends ``upsert <id>``, ``delete
    <id>`` and ``checkpoint`` lines to that file (for a test watching another process)."""

    def __init__(
        self,
        on_upsert: Callable[[Sequence[IndexDocument]], None] | None = None,
        log: Path | None = None,
    ) -> None:
        self.log = log
        self.settings = SearchSettings()  # what the shared pipeline reads (none searches here)
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
            self._write([f"upsert {document.id}" for document in documents])

    def delete(self, ids: Sequence[int]) -> None:
        with self._lock:
            self.deleted.extend(ids)
            self._write([f"delete {i}" for i in ids])

    def commit(self) -> None:
        return None

    def checkpoint(self, applied_through: int | None = None) -> None:
        if applied_through is not None:
            self._applied_through = applied_through
        with self._lock:
            self._write(["checkpoint"])

    def _write(self, lines: list[str]) -> None:
        if self.log is not None and lines:
            with self.log.open("a") as handle:
                handle.write("".join(f"{line}\n" for line in lines))

    def applied_through(self) -> int | None:
        return self._applied_through

    def clear(self) -> None:
        with self._lock:
            self.titles.clear()

    def count(self) -> int:
        return len(self.titles)

    def close(self) -> None:
        return None
