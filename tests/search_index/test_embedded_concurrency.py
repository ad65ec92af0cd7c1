"""Reads of the embedded backend run at once; writes run alone; answers stay exact.

A read is held inside its filter step (a subclass waits there on an event) to show what
another read or a write does meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import SearchFilters
from search_index.testing import ENCODER, doc

WAIT_S = 10.0


class HeldIndex(EmbeddedIndex):
    """An index whose reads for the viewer "held" stop in their filter step until released."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.inside = threading.Event()
        self.release = threading.Event()

    def _filter_mask_and_count(
        self, viewer_tenant: str, f: SearchFilters
    ) -> tuple[np.ndarray, int]:
        if viewer_tenant == "held":
            self.inside.set()
            assert self.release.wait(WAIT_S)
        return super()._filter_mask_and_count(viewer_tenant, f)


def open_index(
    path: Path, cls: type[EmbeddedIndex] = EmbeddedIndex, **embedded: object
) -> EmbeddedIndex:
    settings = SearchSettings(semantic_floor=-1.0, embedded=embedded)  # type: ignore[arg-type]
    return cls(path, dim=ENCODER.dim, model_id=ENCODER.model_id, settings=settings)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldIndex]:
    index = open_index(tmp_path / "idx", HeldIndex)
    assert isinstance(index, HeldIndex)
    index.upsert([doc(i, f"python engineer {i}", city_code=440300) for i in range(1, 31)])
    index.commit()
    yield index
    index.release.set()
    index.close()


def start(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def hold_a_read(index: HeldIndex) -> threading.Thread:
    """A vector search by "held", stopped while it holds the read lock."""
    vector = ENCODER.encode(["python"])[0]
    thread = start(lambda: index.vector_search("held", vector, SearchFilters(), limit=5))
    assert index.inside.wait(WAIT_S)
    return thread


def test_a_read_does_not_wait_for_another_read(held: HeldIndex) -> None:
    blocked = hold_a_read(held)
    answers: list[int] = []
    vector = ENCODER.encode(["python engineer"])[0]
    reader = start(
        lambda: answers.extend(
            [
                held.keyword_search("acme", ["python"], SearchFilters(), limit=50).total,
                len(held.vector_search("acme", vector, SearchFilters(), limit=50)),
                held.list_recent(
                    "acme", SearchFilters(), offset=0, limit=50, collapse_duplicates=True
                ).total,
                len(held.stored_fields([1, 2, 3])),
            ]
        )
    )
    reader.join(WAIT_S)
    # The other read finished while the first one still held its lock.
    assert not reader.is_alive()
    assert blocked.is_alive()
    assert answers == [30, 30, 30, 3]
    held.release.set()
    blocked.join(WAIT_S)
    assert not blocked.is_alive()


def test_a_write_waits_for_reads_and_later_reads_wait_for_it(held: HeldIndex) -> None:
    blocked = hold_a_read(held)
    writer = start(lambda: held.upsert([doc(99, "python lead", city_code=440300)]))
    time.sleep(0.3)
    assert writer.is_alive()  # a write does not run beside a read
    late: list[int] = []
    listed = SearchFilters(city_codes=(440300,))
    late_reader = start(
        lambda: late.append(
            held.list_recent("acme", listed, offset=0, limit=50, collapse_duplicates=False).total
        )
    )
    time.sleep(0.3)
    # A read arriving while the write waits queues behind it (writes are not starved) ...
    assert late_reader.is_alive()
    held.release.set()
    for thread in (blocked, writer, late_reader):
        thread.join(WAIT_S)
        assert not thread.is_alive()
    # ... and so sees the write.
    assert late == [31]


def test_concurrent_reads_and_writes_see_every_write_whole(tmp_path: Path) -> None:
    """A writer moves 200 documents between two cities, and deletes and restores them, in
    single calls; readers, by keyword, vector, listing and facets, always see all 200 in one
    city or none, never a part of a write."""
    index = open_index(tmp_path / "idx", exact_search_threshold=0)
    docs = [doc(i, f"python engineer {i}", city_code=440300) for i in range(1, 201)]
    index.upsert(docs)
    index.commit()
    stop = threading.Event()
    failures: list[str] = []
    reads = [0]

    def write() -> None:
        for round_ in range(40):
            if round_ % 4 == 3:
                index.delete([d.id for d in docs])
                index.commit()
            city = 440100 if round_ % 2 else 440300
            index.upsert([replace(d, city_code=city) for d in docs])
            index.commit()
            if round_ % 10 == 0:
                index.checkpoint(applied_through=round_)
        stop.set()

    def read(seed: int) -> None:
        rng = np.random.default_rng(seed)
        vectors = [d.vector for d in docs]
        while not stop.is_set():
            city = int(rng.choice([440300, 440100]))
            f = SearchFilters(city_codes=(city,))
            totals = {
                "keyword": index.keyword_search("acme", ["python"], f, limit=300).total,
                "vector": len(index.vector_search("acme", vectors[seed], f, limit=300)),
                "listing": index.list_recent(
                    "acme", f, offset=0, limit=300, collapse_duplicates=False
                ).total,
                "facet": sum(
                    index.facet_counts("city", "acme", f, collapse_duplicates=False).values()
                ),
            }
            if any(total not in (0, 200) for total in totals.values()):
                failures.append(f"{city}: {totals}")
            reads[0] += 1

    readers = [start(lambda s=s: read(s)) for s in range(4)]
    writer = start(write)
    writer.join(60)
    stop.set()
    for thread in readers:
        thread.join(WAIT_S)
    index.close()
    assert not writer.is_alive()
    assert failures == []
    assert reads[0] > 20
