"""Start-up trusts the index by one number, the outbox event id stored with its checkpoint:
an index behind the database is caught up (or rebuilt when the events in between are gone),
an index ahead of it (a restored older database) is rebuilt. No full id scan."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from api.runtime import Runtime
from core.domain import EntityKind
from core.settings import Settings
from search_index.hybrid import HybridSearch
from search_index.protocol import SearchQuery
from store.db import Database
from store.jobs import upsert_job
from store.keys import get_or_create_tenant
from store.outbox import record_change


def settings_for(data_dir: Path) -> Settings:
    return Settings(environment="test", data_dir=data_dir, embedding={"provider": "hashing"})


def found(runtime: Runtime, word: str) -> list[int]:
    query = SearchQuery(viewer_tenant="acme", text=word, mode="keyword")
    return [h.id for h in HybridSearch(runtime.jobs_index).search(query).hits]


def write_job(data_dir: Path, title: str, *, drain: bool = True) -> int:
    """Create or update the posting with external id "1" in a short-lived process runtime."""
    runtime = Runtime(settings_for(data_dir))
    runtime.start(background=False)
    try:
        with runtime.db.session() as session:
            get_or_create_tenant(session, "acme")
            job, _ = upsert_job(
                session, tenant_id="acme", fields={"title": title, "external_id": "1"}
            )
            job_id = job.id
        if drain:
            runtime.sync.drain()
            runtime.sync.checkpoint()  # durable: the applied events are forgotten
        return job_id
    finally:
        runtime.close()


def copy_database(data_dir: Path, to: Path) -> None:
    to.mkdir(parents=True, exist_ok=True)
    for path in data_dir.glob("talentmatch.db*"):
        shutil.copy2(path, to / path.name)


def test_an_index_behind_the_outbox_is_caught_up_at_start_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    job_id = write_job(data_dir, "Scala engineer")
    runtime = Runtime(settings_for(data_dir))
    runtime.start(background=False)
    marker = runtime.jobs_index.applied_through()
    runtime.close()
    assert marker is not None and marker > 0
    # A change the index never saw (the writer stopped before draining): pending in the outbox.
    db = Database(settings_for(data_dir))
    with db.session() as session:
        upsert_job(
            session, tenant_id="acme", fields={"title": "Kotlin engineer", "external_id": "1"}
        )
    db.dispose()
    restarted = Runtime(settings_for(data_dir))
    try:
        restarted.start(background=False)
        assert found(restarted, "kotlin") == [job_id] and found(restarted, "scala") == []
        assert restarted.jobs_index.applied_through() == marker + 1
    finally:
        restarted.close()


def test_an_older_copy_of_the_index_is_rebuilt(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    job_id = write_job(data_dir, "Scala engineer")
    shutil.copytree(data_dir / "index", tmp_path / "index-backup")
    write_job(data_dir, "Kotlin engineer")  # applied, checkpointed, its event forgotten
    shutil.rmtree(data_dir / "index")
    shutil.copytree(tmp_path / "index-backup", data_dir / "index")  # restore the older index
    runtime = Runtime(settings_for(data_dir))
    try:
        runtime.start(background=False)
        # The same ids as the database, but stale content: only the marker tells.
        assert found(runtime, "kotlin") == [job_id] and found(runtime, "scala") == []
    finally:
        runtime.close()


def test_an_index_ahead_of_a_restored_older_database_is_rebuilt(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    job_id = write_job(data_dir, "Scala engineer")
    copy_database(data_dir, tmp_path / "db-backup")
    write_job(data_dir, "Kotlin engineer")  # the index now reflects a newer database
    for path in data_dir.glob("talentmatch.db*"):
        path.unlink()
    copy_database(tmp_path / "db-backup", data_dir)  # restore the older database
    runtime = Runtime(settings_for(data_dir))
    try:
        runtime.start(background=False)
        assert found(runtime, "scala") == [job_id] and found(runtime, "kotlin") == []
    finally:
        runtime.close()


def test_ids_a_rolled_back_transaction_used_up_cause_no_rebuild(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's sequences do not roll back: a transaction that recorded an outbox event
    and then failed (a lost upsert race, a refused bulk record) leaves a gap. A gap is no
    missed event, so a restart must not rebuild the index for it."""
    hashing = settings.model_copy(update={"embedding": settings.embedding.model_copy(
        update={"provider": "hashing"})})  # fmt: skip
    runtime = Runtime(hashing)
    runtime.start(background=False)
    try:
        with runtime.db.session() as session:
            get_or_create_tenant(session, "acme")
            job, _ = upsert_job(session, tenant_id="acme", fields={"title": "Scala engineer"})
            job_id = job.id
        runtime.sync.drain()
        runtime.sync.checkpoint()
        with pytest.raises(RuntimeError), runtime.db.session() as session:
            record_change(session, EntityKind.JOB, job_id)
            session.flush()  # the event takes an id from the sequence
            raise RuntimeError("the transaction fails after its write")
    finally:
        runtime.close()
    caplog.clear()  # the first start built the (new, empty) indexes
    restarted = Runtime(hashing)
    try:
        with caplog.at_level(logging.WARNING):
            restarted.start(background=False)
        assert "rebuilding" not in caplog.text
        assert found(restarted, "scala") == [job_id]
    finally:
        restarted.close()
