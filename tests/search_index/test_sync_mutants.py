"""Outbox sync behaviour that mutation testing of ``search_index/sync.py`` found unpinned:
deletions reaching the index (also during a rebuild behind an alias), vector references for
kinds matched from the database, each change applied once, the poller actually polling, and
a poller that never holds a process open."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from core.domain import EntityKind
from representation.encoders import CachedEncoder, HashingEncoder
from search_index.protocol import SearchIndex
from search_index.sync import IndexSync
from search_index.vectors import DatabaseVectors
from store.db import Database
from store.jobs import delete_job
from store.models import Job
from store.outbox import backlog, pending_purges, request_index_purge
from store.vector_refs import save_vector_refs, vector_refs
from tests.processes.recording import RecordingIndex
from tests.search_index.test_rebuild_behind_alias import AliasedIndex, write_postings

ROOT = Path(__file__).resolve().parents[2]


def _sync(db: Database, index: RecordingIndex, **kwargs: Any) -> IndexSync:
    # The recording backends keep only what these tests read (not a whole SearchIndex).
    indexes = {EntityKind.JOB: cast(SearchIndex, index)}
    return IndexSync(db, HashingEncoder(64), indexes, batch_size=4, **kwargs)


def _job_ids(db: Database) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(Job.id).order_by(Job.id)))


def _delete(db: Database, job_id: int, tmp_path: Path) -> None:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        delete_job(session, tmp_path / "files", job)


def test_a_deleted_posting_is_deleted_from_the_index(db: Database, tmp_path: Path) -> None:
    index = RecordingIndex()
    sync = _sync(db, index)
    write_postings(db, 3)
    sync.drain()
    gone, *kept = _job_ids(db)
    _delete(db, gone, tmp_path)
    assert sync.drain() == 1
    assert index.deleted == [gone]
    assert not set(kept) & set(index.deleted)


def test_vectors_read_from_the_database_are_recorded_and_dropped_with_the_row(
    db: Database, tmp_path: Path
) -> None:
    encoder = CachedEncoder(HashingEncoder(64), db)
    vectors = {EntityKind.JOB: DatabaseVectors(db, EntityKind.JOB, encoder)}
    index = RecordingIndex()
    sync = _sync(db, index, database_vectors=vectors)
    write_postings(db, 2)
    sync.drain()
    first, second = _job_ids(db)
    with db.session() as session:
        refs = vector_refs(session, EntityKind.JOB, [first, second])
    assert set(refs) == {first, second}
    assert refs[first].content_hash != refs[second].content_hash
    _delete(db, first, tmp_path)
    sync.drain()
    with db.session() as session:
        assert set(vector_refs(session, EntityKind.JOB, [first, second])) == {second}


def test_a_posting_deleted_during_a_rebuild_is_not_in_the_new_index(
    db: Database, tmp_path: Path
) -> None:
    """Another process deletes a posting (and applies the event to the old index) while this
    one fills the new index: the deletion, which leaves no row to find, reaches it too."""
    index = AliasedIndex()
    sync = _sync(db, index)
    write_postings(db, 8)
    sync.drain()
    first = min(index.titles)

    def another_worker_deletes() -> None:
        _delete(db, first, tmp_path)

    # Runs inside the rebuild's first write: the posting is already in the new index, and
    # its row is gone, so only its outbox event says it must go.
    index.during_rebuild = another_worker_deletes
    sync.reindex(kinds=[EntityKind.JOB], batch_size=4)
    assert index.deleted == [first]


def test_changes_made_during_a_rebuild_are_applied_to_the_new_index_once(db: Database) -> None:
    index = AliasedIndex()
    sync = _sync(db, index)
    write_postings(db, 8)
    sync.drain()
    first, second = sorted(index.titles)[:2]

    def another_worker_writes() -> None:
        with db.session() as session:
            for job_id in (first, second):
                job = session.get(Job, job_id)
                assert job is not None
                job.title = f"Renamed while rebuilding {job_id}"

    index.during_rebuild = another_worker_writes
    before = len(index.upserted)
    sync.reindex(kinds=[EntityKind.JOB], batch_size=4)
    # The rebuild's own writes go to the new generation; after the switch only the changed
    # postings are written again, each once.
    assert index.upserted[before:] == [first, second]
    assert index.titles[first] == f"Renamed while rebuilding {first}"


def test_the_background_poller_applies_writes_it_did_not_make(db: Database) -> None:
    index = RecordingIndex()
    sync = _sync(db, index)
    sync.start(0.05)
    try:
        write_postings(db, 2)
        deadline = time.monotonic() + 20
        while index.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert index.count() == 2
    finally:
        sync.stop()
    assert not sync.running


def test_a_process_that_exits_without_stopping_the_poller_is_not_held_open(
    tmp_path: Path,
) -> None:
    script = f"""
from pathlib import Path
from core.domain import EntityKind
from core.settings import Settings
from representation.encoders import HashingEncoder
from search_index.sync import IndexSync
from store.db import Database
from tests.processes.recording import RecordingIndex
db = Database(Settings(environment="test", data_dir=Path({str(tmp_path / "data")!r})))
sync = IndexSync(db, HashingEncoder(64), {{EntityKind.JOB: RecordingIndex()}})
sync.start(0.05)
assert sync.running
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, timeout=30, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_new_index_is_logged_by_its_kind(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    index = RecordingIndex()
    index._applied_through = None  # a new index: no checkpoint yet
    sync = _sync(db, index)
    with caplog.at_level(logging.INFO, logger="search_index.sync"):
        sync.recover()
    messages = [r.getMessage() for r in caplog.records if r.name == "search_index.sync"]
    assert "job index is new; building it" in messages


def _sync_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "search_index.sync"]


def test_events_applied_but_never_checkpointed_are_replayed_at_start_up(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    before_crash = RecordingIndex()
    write_postings(db, 2)
    applied = _sync(db, before_crash).drain()  # applied, not yet checkpointed
    assert applied >= 2 and before_crash.count() == 2
    # The process dies: its index state since the last checkpoint (none) is lost.
    after_restart = RecordingIndex()
    with caplog.at_level(logging.INFO, logger="search_index.sync"):
        _sync(db, after_restart).recover()
    assert after_restart.count() == 2
    assert f"replaying {applied} outbox events not covered by the last checkpoint" in (
        _sync_messages(caplog)
    )


def test_start_up_rebuilds_only_the_index_it_cannot_trust(db: Database) -> None:
    write_postings(db, 2)
    lost = RecordingIndex()
    lost._applied_through = None
    healthy = AliasedIndex()
    indexes = {EntityKind.JOB: cast(SearchIndex, lost), EntityKind.CANDIDATE: healthy}
    IndexSync(db, HashingEncoder(64), cast(dict[EntityKind, SearchIndex], indexes)).recover()
    assert lost.count() == 2
    assert healthy.calls == []  # neither emptied nor rebuilt


@pytest.mark.parametrize("state", ["ahead", "behind"])
def test_start_up_names_why_it_rebuilds(
    db: Database, caplog: pytest.LogCaptureFixture, state: str
) -> None:
    index = RecordingIndex()
    sync = _sync(db, index)
    write_postings(db, 2)
    sync.drain()
    sync.checkpoint()  # the applied events are forgotten
    issued = index.applied_through()
    assert issued is not None and issued > 0
    # Ahead: a restored older database. Behind: an older copy of the index.
    index._applied_through = issued + 10 if state == "ahead" else 0
    with caplog.at_level(logging.INFO, logger="search_index.sync"):
        _sync(db, index).recover()
    reason = {
        "ahead": "ahead of the database (a restored older database?)",
        "behind": "behind events the database has already forgotten",
    }[state]
    assert f"job index is {reason}; rebuilding it" in _sync_messages(caplog)
    assert index.count() == 2


def test_a_requested_purge_rewrites_the_index_once(db: Database) -> None:
    index = AliasedIndex()
    sync = _sync(db, index)
    write_postings(db, 2)
    sync.drain()
    with db.session() as session:
        request_index_purge(session, EntityKind.JOB)
    sync.purge()
    assert index.calls == ["begin", "finish"]
    with db.session() as session:
        assert pending_purges(session) == []
    sync.purge()  # done: nothing asks for another rewrite
    assert index.calls == ["begin", "finish"]


def test_an_idle_consumer_makes_no_further_checkpoints(db: Database, tmp_path: Path) -> None:
    log = tmp_path / "index.log"
    index = RecordingIndex(log=log)
    sync = _sync(db, index, checkpoint_interval_s=0.0)
    assert sync.drain() == 0
    assert not log.exists()  # a new consumer with nothing applied has nothing to make durable
    write_postings(db, 2)
    sync.drain()  # events since the last checkpoint, and its interval passed: one now
    assert log.read_text().count("checkpoint") == 1
    for _ in range(3):
        assert sync.drain() == 0
    assert log.read_text().count("checkpoint") == 1


def test_a_backlog_is_applied_in_batches_and_counted_whole(db: Database) -> None:
    sizes: list[int] = []
    index = RecordingIndex(on_upsert=lambda documents: sizes.append(len(documents)))
    sync = _sync(db, index)  # batches of 4
    write_postings(db, 6)
    with db.session() as session:
        pending = backlog(session)
    assert pending >= 6
    before = sync.last_progress
    assert sync.drain() == pending
    assert sync.last_progress > before  # each batch is progress a heartbeat sees
    assert index.count() == 6
    assert len(sizes) >= 2 and max(sizes) <= 4


def test_checkpoints_come_by_event_count_or_by_interval_not_after_every_batch(
    db: Database, tmp_path: Path
) -> None:
    log = tmp_path / "index.log"
    index = RecordingIndex(log=log)
    by_time = _sync(db, index, checkpoint_interval_s=3600.0, checkpoint_every_events=10_000)
    write_postings(db, 2)
    assert by_time.drain() >= 2
    assert "checkpoint" not in log.read_text()  # neither enough events nor the interval
    by_count = _sync(db, index, checkpoint_interval_s=3600.0)
    write_postings(db, 5)  # more than one batch: the count runs across batches
    with db.session() as session:
        pending = backlog(session)
    by_count.checkpoint_every_events = pending  # exactly the threshold
    assert by_count.drain() == pending
    assert log.read_text().count("checkpoint") == 1
    # One event once the interval has passed is checkpointed too.
    by_interval = _sync(db, index, checkpoint_interval_s=0.0)
    first = _job_ids(db)[0]
    _delete(db, first, tmp_path)
    assert by_interval.drain() == 1
    assert log.read_text().count("checkpoint") == 2


@pytest.mark.parametrize("rows", [0, 2])
def test_a_rebuilt_index_is_trusted_at_the_next_start(
    db: Database, caplog: pytest.LogCaptureFixture, rows: int
) -> None:
    """A rebuild's checkpoint records the database's last event (none on a new database): the
    next start finds nothing to rebuild, even when the rebuild had no event to apply."""
    write_postings(db, rows)
    first = RecordingIndex()
    sync = _sync(db, first)
    sync.drain()
    sync.checkpoint()  # events forgotten
    lost = RecordingIndex()
    lost._applied_through = None
    _sync(db, lost).recover()
    assert lost.count() == rows
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="search_index.sync"):
        _sync(db, lost).recover()
    assert _sync_messages(caplog) == []


def test_a_rebuild_writes_each_row_once_and_counts_every_index(db: Database) -> None:
    jobs = RecordingIndex()
    candidates = RecordingIndex()
    indexes = {EntityKind.JOB: cast(SearchIndex, jobs), EntityKind.CANDIDATE: candidates}
    sync = IndexSync(db, HashingEncoder(64), cast(dict[EntityKind, SearchIndex], indexes))
    write_postings(db, 6)
    before = sync.last_progress
    assert sync.reindex(batch_size=4) == 6  # every index: six postings, no candidates
    assert jobs.upserted == _job_ids(db)  # each once, in id order
    # The candidate index is filled from candidates, never from postings' ids.
    assert candidates.upserted == [] and candidates.deleted == []
    assert sync.reindex(kinds=[EntityKind.CANDIDATE]) == 0
    assert sync.last_progress > before  # a rebuild is progress a heartbeat sees


def test_a_rebuild_drops_vector_references_of_rows_that_are_gone(db: Database) -> None:
    encoder = CachedEncoder(HashingEncoder(64), db)
    vectors = {EntityKind.JOB: DatabaseVectors(db, EntityKind.JOB, encoder)}
    sync = _sync(db, RecordingIndex(), database_vectors=vectors)
    write_postings(db, 1)
    sync.drain()
    (kept,) = _job_ids(db)
    with db.session() as session:
        ref = vector_refs(session, EntityKind.JOB, [kept])[kept]
        # A reference left behind by a row removed while no index applied its event.
        save_vector_refs(session, EntityKind.JOB, [replace(ref, entity_id=kept + 100)])
    sync.reindex(kinds=[EntityKind.JOB])
    with db.session() as session:
        assert set(vector_refs(session, EntityKind.JOB, [kept, kept + 100])) == {kept}
