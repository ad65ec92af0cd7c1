"""``IndexSync.reindex`` on a backend that rebuilds behind an alias (Elasticsearch): searches
keep answering from the old index during the whole rebuild, the switch comes after the last
document, and a failed rebuild leaves the old index in place. The backend here keeps two
in-memory generations, as the alias does (the test is about the sync's calls, not about an
engine)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import pytest

from api.schemas import JobCreate
from core.domain import EntityKind
from representation.encoders import HashingEncoder
from search_index.protocol import IndexDocument, SearchIndex
from search_index.sync import IndexSync
from store.db import Database
from store.jobs import upsert_job
from store.models import Job
from tests.conftest import job_payload
from tests.processes.recording import RecordingIndex


class AliasedIndex(RecordingIndex):
    """``titles`` is what searches see (the alias); a rebuild writes a second generation."""

    def __init__(
        self, fail_after: int | None = None, during_rebuild: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.during_rebuild = during_rebuild
        self.building: dict[int, str] | None = None
        self.seen_during_rebuild: list[int] = []  # searchable documents at each rebuild write
        self.calls: list[str] = []
        self.fail_after = fail_after

    def begin_rebuild(self) -> str:
        self.calls.append("begin")
        self.building = {}
        return "v2"

    def finish_rebuild(self) -> None:
        self.calls.append("finish")
        assert self.building is not None
        self.titles, self.building = self.building, None

    def abort_rebuild(self) -> None:
        self.calls.append("abort")
        self.building = None

    def clear(self) -> None:
        self.calls.append("clear")
        super().clear()

    def upsert(self, documents: Sequence[IndexDocument]) -> None:
        if self.building is None:
            super().upsert(documents)
            return
        if self.fail_after is not None and len(self.building) >= self.fail_after:
            raise RuntimeError("the cluster went away mid-rebuild")
        self.seen_during_rebuild.append(len(self.titles))
        self.building.update({d.id: d.title for d in documents})
        if self.during_rebuild is not None:
            hook, self.during_rebuild = self.during_rebuild, None
            hook()


def sync_over(db: Database, index: AliasedIndex) -> IndexSync:
    indexes: dict[EntityKind, SearchIndex] = {EntityKind.JOB: index}
    return IndexSync(db, HashingEncoder(64), indexes, batch_size=4)


def write_postings(db: Database, count: int) -> None:
    for n in range(count):
        fields = JobCreate.model_validate(
            job_payload(
                title=f"Engineer {uuid.uuid4().hex[:10]}",
                external_id=f"r-{uuid.uuid4().hex[:8]}",
                description=uuid.uuid4().hex,
                company=f"Co {n}",
            )  # fmt: skip
        ).model_dump()
        db.run_transaction(lambda s, f=fields: upsert_job(s, tenant_id="acme", fields=f))


def test_searches_keep_the_old_index_until_the_rebuild_is_whole(db: Database) -> None:
    index = AliasedIndex()
    sync = sync_over(db, index)
    write_postings(db, 10)
    sync.drain()
    assert index.count() == 10
    write_postings(db, 3)  # rows the old index has not seen yet
    assert sync.reindex(kinds=[EntityKind.JOB], batch_size=4) == 13
    assert index.calls == ["begin", "finish"]  # never emptied
    # Every write of the rebuild happened while searches saw the whole old index.
    assert index.seen_during_rebuild and set(index.seen_during_rebuild) == {10}
    assert index.count() == 13


def test_a_failed_rebuild_leaves_the_old_index(db: Database) -> None:
    index = AliasedIndex(fail_after=4)
    sync = sync_over(db, index)
    write_postings(db, 10)
    sync.drain()
    before = dict(index.titles)
    with pytest.raises(RuntimeError):
        sync.reindex(kinds=[EntityKind.JOB], batch_size=4)
    assert index.calls == ["begin", "abort"]
    assert index.titles == before


def test_changes_other_processes_made_during_the_rebuild_reach_the_new_index(
    db: Database,
) -> None:
    """Another worker applies writes to the alias's (old) index while this process fills the
    new one; after the switch the new index has them too."""
    index = AliasedIndex()
    sync = sync_over(db, index)
    write_postings(db, 8)
    sync.drain()
    first = min(index.titles)

    def another_worker_writes() -> None:
        with db.session() as session:
            job = session.get(Job, first)
            assert job is not None
            job.title = "Renamed while rebuilding"
        write_postings(db, 1)  # and a new posting

    index.during_rebuild = another_worker_writes
    sync.reindex(kinds=[EntityKind.JOB], batch_size=4)
    assert index.titles[first] == "Renamed while rebuilding"
    assert len(index.titles) == 9
