"""Several outbox consumers on one PostgreSQL database (``talentmatch worker`` processes on a
shared search backend): each event is applied by exactly one of them, none is missed, and a
consumer never overwrites a newer version of a document with the older row it read."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.schemas import JobCreate
from core.domain import EntityKind
from core.settings import Settings
from representation.encoders import HashingEncoder
from search_index.protocol import IndexDocument, SearchIndex
from search_index.sync import IndexSync
from store.db import Database
from store.jobs import upsert_job
from store.keys import get_or_create_tenant
from store.models import OutboxEvent
from tests.conftest import POSTGRES_URL, fresh_postgres_database, job_payload
from tests.processes.recording import RecordingIndex
from tests.processes.recording_worker import recorded, start_worker_process

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="needs PostgreSQL (TALENTMATCH_TEST_POSTGRES_URL)"
)
TENANT = "claims-agency"


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    for url in fresh_postgres_database():
        yield Settings(environment="test", data_dir=tmp_path / "data", db={"url": url})


def _consumer(settings: Settings, index: RecordingIndex, *, batch_size: int) -> IndexSync:
    """An outbox consumer with its own engine, as in its own process. Checkpoints are off so
    the applied events stay in the outbox for the test to count."""
    indexes: dict[EntityKind, SearchIndex] = dict.fromkeys(EntityKind, index)
    return IndexSync(
        Database(settings), HashingEncoder(64), indexes, batch_size=batch_size,
        checkpoint_interval_s=1e9, checkpoint_every_events=10**9, purge_interval_s=1e9,
    )  # fmt: skip


def _posting(n: int, title: str | None = None) -> dict[str, object]:
    """A posting unlike every other (no near-duplicate grouping, which adds events)."""
    words = uuid.uuid4().hex
    fields = job_payload(
        title=title or f"Engineer {words[:12]}", description=f"{words} {uuid.uuid4().hex}",
        company=f"Company {n} {words[12:20]}", external_id=f"claims-{n}",
    )  # fmt: skip
    return JobCreate.model_validate(fields).model_dump()


def _write(db: Database, numbers: Sequence[int]) -> list[int]:
    ids = []
    for n in numbers:
        fields = _posting(n)
        job, _ = db.run_transaction(lambda s, f=fields: upsert_job(s, tenant_id=TENANT, fields=f))
        ids.append(job.id)
    return ids


def test_two_consumers_apply_every_event_exactly_once(pg_settings: Settings) -> None:
    writer_db = Database(pg_settings)
    with writer_db.session() as session:
        get_or_create_tenant(session, TENANT)
    recorded = [RecordingIndex(), RecordingIndex()]
    consumers = [_consumer(pg_settings, index, batch_size=8) for index in recorded]
    written: list[list[int]] = [[] for _ in range(4)]
    writing = threading.Event()
    writing.set()

    def write(slot: int) -> None:
        written[slot] = _write(writer_db, range(slot * 80, slot * 80 + 80))

    def consume(sync: IndexSync) -> None:
        while writing.is_set():
            sync.drain()
        sync.drain()

    writers = [threading.Thread(target=write, args=(slot,)) for slot in range(4)]
    readers = [threading.Thread(target=consume, args=(sync,)) for sync in consumers]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in readers:
        thread.join()

    job_ids = sorted(i for ids in written for i in ids)
    with writer_db.session() as session:
        events = Counter(session.scalars(select(OutboxEvent.entity_id)))
        pending = session.scalar(select(func.count()).where(OutboxEvent.applied.is_(False)))
    assert events == Counter(job_ids)  # one event per posting: one application each
    assert pending == 0
    applied = Counter(recorded[0].upserted) + Counter(recorded[1].upserted)
    twice = sorted(i for i, n in applied.items() if n > 1)
    assert twice == []
    assert sorted(applied) == job_ids
    # Both consumers took part: the claims were contended, not taken in turn.
    assert recorded[0].upserted and recorded[1].upserted
    for sync in consumers:
        sync.db.dispose()
    writer_db.dispose()


def test_a_newer_event_waits_for_the_consumer_indexing_an_older_version(
    pg_settings: Settings,
) -> None:
    """Consumer A reads a posting and is slow to index it; the posting changes and consumer B
    drains meanwhile: B leaves the posting to A's turn, so the newer title wins in the end."""
    writer_db = Database(pg_settings)
    with writer_db.session() as session:
        get_or_create_tenant(session, TENANT)
    job_id = _write(writer_db, [1])[0]
    inside, release = threading.Event(), threading.Event()

    def hold(documents: Sequence[IndexDocument]) -> None:
        inside.set()
        assert release.wait(30)

    slow, quick = RecordingIndex(on_upsert=hold), RecordingIndex()
    shared = RecordingIndex()  # what the search backend ends up holding, written by both
    slow_sync = _consumer(pg_settings, slow, batch_size=8)
    quick_sync = _consumer(pg_settings, quick, batch_size=8)
    for index in (slow, quick):
        index.titles = shared.titles  # one backend seen by both processes

    first = threading.Thread(target=slow_sync.drain)
    first.start()
    assert inside.wait(30)
    renamed = _posting(1, title="Renamed posting")
    writer_db.run_transaction(lambda s: upsert_job(s, tenant_id=TENANT, fields=renamed))
    quick_sync.drain()  # the new event's posting is being indexed by the slow consumer
    release.set()
    first.join()
    quick_sync.drain()  # now its turn: it reads the renamed row

    assert shared.titles[job_id] == "Renamed posting"
    with writer_db.session() as session:
        assert session.scalar(select(func.count()).where(OutboxEvent.applied.is_(False))) == 0
    for sync in (slow_sync, quick_sync):
        sync.db.dispose()
    writer_db.dispose()


def test_two_worker_processes_apply_every_event_exactly_once(
    pg_settings: Settings, tmp_path: Path
) -> None:
    """The same with two real ``talentmatch worker`` processes polling one database."""
    writer_db = Database(pg_settings)
    with writer_db.session() as session:
        get_or_create_tenant(session, TENANT)
    dirs = [tmp_path / "worker-1", tmp_path / "worker-2"]
    often = {
        "TALENTMATCH_SEARCH__OUTBOX_POLL_INTERVAL_S": "0.05",
        # No checkpoint forgets the applied events: the test counts them afterwards.
        "TALENTMATCH_SEARCH__EMBEDDED__CHECKPOINT_INTERVAL_S": "1000000",
        "TALENTMATCH_SEARCH__EMBEDDED__CHECKPOINT_EVERY_EVENTS": "100000000",
    }
    workers = [start_worker_process(pg_settings, path, **often) for path in dirs]
    try:
        # Each has recovered (its start-up checkpoint) before the writes begin.
        assert _wait_until(lambda: all("checkpoint" in recorded(path) for path in dirs))
        written: list[list[int]] = [[] for _ in range(4)]

        def write(slot: int) -> None:
            written[slot] = _write(writer_db, range(slot * 60, slot * 60 + 60))

        writers = [threading.Thread(target=write, args=(slot,)) for slot in range(4)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        job_ids = sorted(i for ids in written for i in ids)

        def applied() -> Counter[int]:
            lines = [line for path in dirs for line in recorded(path)]
            return Counter(int(line.split()[1]) for line in lines if line.startswith("upsert"))

        assert _wait_until(lambda: set(applied()) >= set(job_ids), timeout_s=120)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            _, stderr = worker.communicate(timeout=60)
            assert worker.returncode == 0, stderr
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    with writer_db.session() as session:
        events = Counter(session.scalars(select(OutboxEvent.entity_id)))
        pending = session.scalar(select(func.count()).where(OutboxEvent.applied.is_(False)))
    assert events == Counter(job_ids) and pending == 0
    twice = sorted(i for i, n in applied().items() if n > 1)
    assert twice == []
    assert sorted(applied()) == job_ids
    writer_db.dispose()


def _wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
