"""Keeps the search indexes in step with the database through the outbox, and rebuilds them.

Order of operations for a change: the SQL transaction commits the row and its outbox event;
``drain`` applies pending events to the index (loading each entity's current row, so events
are idempotent and order-free) and marks them applied; ``checkpoint`` makes the index durable
and only then deletes the applied events. A crash anywhere replays what was not durable.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.domain import EntityKind
from core.encoder import Encoder
from core.fingerprints import content_hash
from core.log_safety import describe_failure
from representation.profiles import CandidateProfile, JobProfile
from search_index.protocol import IndexDocument, RebuildsBehindAlias, SearchIndex
from search_index.rerank import text_language
from search_index.vectors import DatabaseVectors
from store import outbox
from store.candidates import candidates_by_ids
from store.db import Database
from store.jobs import jobs_by_ids
from store.models import Candidate, Job, OutboxEvent, utcnow
from store.vector_refs import (
    VectorRef,
    delete_orphan_refs,
    delete_vector_refs,
    save_vector_refs,
    vector_refs,
)

log = logging.getLogger(__name__)


Encode = Callable[[list[str]], list]


def _documents(
    profiles: Sequence[JobProfile | CandidateProfile],
    encode: Encode,
    fields: Callable[[int], dict[str, Any]],
) -> list[IndexDocument]:
    """Index documents of the profiles: content and title texts encoded in one batch (their
    hashes kept: the vectors' keys in the embedding cache), the fields every entity shares,
    and ``fields(i)``, the i-th entity's own."""
    contents = [p.embedding_text() for p in profiles]
    titles = [p.title_text() for p in profiles]
    sections = [p.section_texts() if isinstance(p, CandidateProfile) else [] for p in profiles]
    flat = [text for texts in sections for text in texts]
    vectors = encode(contents + titles + flat) if profiles else []
    starts = list(itertools.accumulate((len(t) for t in sections), initial=2 * len(profiles)))
    return [
        IndexDocument(
            id=p.id,
            tenant_id=p.tenant_id,
            vector=vectors[i],
            title_vector=vectors[len(profiles) + i],
            text_hashes=(content_hash(contents[i]), content_hash(titles[i])),
            section_vectors=np.stack(vectors[starts[i] : starts[i + 1]]) if sections[i] else None,
            section_hashes=tuple(content_hash(t) for t in sections[i]),
            timestamp=p.timestamp,
            city_code=p.city_code,
            education_rank=p.education_rank,
            skills=p.skills,
            occupation_code=p.occupation_code,
            **fields(i),
        )
        for i, p in enumerate(profiles)
    ]


def job_documents(jobs: Sequence[Job], encode: Encode) -> list[IndexDocument]:
    """Index documents for postings."""
    profiles = [JobProfile.from_row(job) for job in jobs]

    def fields(i: int) -> dict[str, Any]:
        p, job = profiles[i], jobs[i]
        skills = list(job.required_skills or []) + list(job.preferred_skills or [])
        return {
            "private": p.private,
            "title": p.title,
            "text": p.keyword_text(skills),
            "district_code": p.district_code,
            "salary_min": p.salary_min,
            "salary_max": p.salary_max,
            "employment_type": p.employment_type,
            "years": p.min_years,
            "group_id": job.duplicate_of or job.id,
            "company": (job.company or "").strip() or None,
            "language": (job.language or "")[:2].lower()
            or text_language(f"{job.title} {job.description[:200]}"),
        }

    return _documents(profiles, encode, fields)


def candidate_documents(candidates: Sequence[Candidate], encode: Encode) -> list[IndexDocument]:
    """Index documents for candidates (never visible outside their tenant)."""
    profiles = [CandidateProfile.from_row(c) for c in candidates]

    def fields(i: int) -> dict[str, Any]:
        p = profiles[i]
        return {
            "private": True,
            "title": p.title_text(),
            "text": p.keyword_text(),
            # A candidate states one desired pay: a point range.
            "salary_min": p.desired_salary_min,
            "salary_max": p.desired_salary_min,
            "years": p.years,
            # Re-ranking weighs BM25 apart for a résumé in another language than the query.
            "language": text_language(f"{p.title_text()} {p.resume_text[:200]}"),
        }

    return _documents(profiles, encode, fields)


@dataclass
class SyncStats:
    # Why the last poll round failed (None once one succeeds); the outbox's backlog and lag,
    # which every process reads alike from the database, say how far the sync has got.
    last_error: str | None = None


class IndexSync:
    """Applies outbox events to the job and candidate indexes (one writer per process)."""

    def __init__(
        self,
        db: Database,
        encoder: Encoder,
        indexes: dict[EntityKind, SearchIndex],
        *,
        batch_size: int = 256,
        checkpoint_interval_s: float = 30.0,
        checkpoint_every_events: int = 5000,
        purge_interval_s: float = 600.0,
        database_vectors: dict[EntityKind, DatabaseVectors] | None = None,
    ) -> None:
        self.db = db
        # Kinds whose vectors matching reads from the database: their documents' text hashes
        # are recorded as they are indexed (``search_index.vectors``).
        self.database_vectors = database_vectors or {}
        self.purge_interval_s = purge_interval_s
        self._last_purge = time.monotonic()
        self.encoder = encoder
        self.indexes = indexes
        self.batch_size = batch_size
        self.checkpoint_interval_s = checkpoint_interval_s
        self.checkpoint_every_events = checkpoint_every_events
        self.stats = SyncStats()
        self._lock = threading.Lock()
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The last outbox event id applied to the indexes (stored with each checkpoint).
        self._applied_through: int | None = None
        # Set once start-up recovery has run: until then the index is catching up and
        # serves what it holds, and writers leave their events to the background thread.
        self.recovered = threading.Event()
        # When this consumer last made progress (a poll round, a batch applied, a batch of a
        # rebuild): a worker's heartbeat stops when it stalls.
        self.last_progress = time.monotonic()

    def _encode(self, texts: list[str]) -> list:
        return list(self.encoder.encode(texts))

    def recover(self) -> None:
        """At start-up: rebuild an index that cannot be trusted (lost, from another model, or
        ahead of the database: a restored older database), then replay events whose effect
        may not have reached a checkpoint. Compares one number per index (the outbox event
        id of its checkpoint) with the database, never the whole id set."""
        issued = self._last_issued_event()
        with self.db.session() as session:
            forgotten = outbox.forgotten_through(session)
        stale = []
        for kind, index in self.indexes.items():
            marker = index.applied_through()
            # Behind events the database already forgot: an older copy of the index (e.g.
            # restored from a backup) that replaying cannot bring up to date. (Ids a rolled
            # back transaction used up leave gaps in the sequence, and are no reason.)
            missed = marker is not None and marker < forgotten
            if marker is None and issued == 0:
                # A new database and a new index: nothing was lost, nothing to warn about.
                log.info("%s index is new; building it", kind.value)
                stale.append(kind)
            elif marker is None or marker > issued or missed:
                reason = (
                    "lost (no usable checkpoint)" if marker is None
                    else "ahead of the database (a restored older database?)" if marker > issued
                    else "behind events the database has already forgotten"
                )  # fmt: skip
                log.warning("%s index is %s; rebuilding it", kind.value, reason)
                stale.append(kind)
        with self.db.session() as session:
            replayed = outbox.replay_unsaved(session)
        if replayed:
            log.info("replaying %d outbox events not covered by the last checkpoint", replayed)
        if stale:
            self.reindex(kinds=stale)
        self.drain()
        self.purge()  # erasures whose index rewrite the last run did not get to
        self.checkpoint()

    def _last_issued_event(self) -> int:
        """The highest outbox event id the database ever issued (applied events are deleted,
        so read the id sequence, which never goes back)."""
        with self.db.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                row = session.execute(
                    text("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_id_seq")
                ).scalar()
            else:
                row = session.execute(
                    text("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
                ).scalar()
            newest = session.scalar(select(func.max(OutboxEvent.id)))
        return max(int(row or 0), int(newest or 0))

    def drain(self) -> int:
        """Apply pending outbox events; returns how many were applied."""
        applied = 0
        with self._lock:
            while True:
                with self.db.session() as session:
                    # Claimed rows stay locked through the index update and the commit that
                    # marks them applied: another consumer never applies them as well.
                    claimed = outbox.claim_pending(session, limit=self.batch_size)
                    if not claimed:
                        break
                    held = outbox.lock_entities(
                        session, {(EntityKind(e.entity), e.entity_id) for e in claimed}
                    )
                    events = [e for e in claimed if (EntityKind(e.entity), e.entity_id) in held]
                    if not events:
                        break  # another consumer is indexing these entities; retried next poll
                    by_kind: dict[EntityKind, set[int]] = {}
                    for event in events:
                        by_kind.setdefault(EntityKind(event.entity), set()).add(event.entity_id)
                    for kind, ids in by_kind.items():
                        self._apply(session, kind, sorted(ids))
                    for index in self.indexes.values():
                        index.commit()
                    outbox.mark_applied(session, [e.id for e in events])
                    self._applied_through = max(
                        self._applied_through or 0, max(e.id for e in events)
                    )
                applied += len(events)
                self.last_progress = time.monotonic()
                self._since_checkpoint += len(events)
            if self._checkpoint_due():
                self._checkpoint_locked()
        if time.monotonic() - self._last_purge >= self.purge_interval_s:
            self.purge()
        return applied

    def purge(self) -> None:
        """After erasures: rewrite the indexes they asked for (from the database), so no
        index file keeps the erased text. Until then an erased document is only marked
        deleted: never found, but its bytes linger in a segment. The requests are rows
        (``store.outbox.request_index_purge``) committed with the erasure: a restart
        carries them over."""
        self._last_purge = time.monotonic()
        started = utcnow()
        with self.db.session() as session:
            kinds = [EntityKind(row.entity) for row in outbox.pending_purges(session)]
        kinds = [kind for kind in kinds if kind in self.indexes]
        if not kinds:
            return
        log.info("rewriting the %s index after erasures", ", ".join(k.value for k in kinds))
        self.reindex(kinds=kinds)
        with self.db.session() as session:
            for kind in kinds:
                outbox.purge_done(session, kind, started)

    def _apply(self, session: Session, kind: EntityKind, ids: list[int]) -> None:
        index = self.indexes[kind]
        if kind is EntityKind.JOB:
            jobs = jobs_by_ids(session, ids)
            documents = job_documents(list(jobs.values()), self._encode)
            present = set(jobs)
        else:
            candidates = candidates_by_ids(session, ids)
            documents = candidate_documents(list(candidates.values()), self._encode)
            present = set(candidates)
        index.upsert(documents)
        gone = [i for i in ids if i not in present]
        if gone:
            index.delete(gone)
        if kind in self.database_vectors:
            self._record_vectors(session, kind, documents, gone)

    def _record_vectors(
        self, session: Session, kind: EntityKind, documents: list[IndexDocument], gone: list[int]
    ) -> None:
        """Where the documents' vectors are in the embedding cache; gone documents' rows and
        in-memory vectors dropped."""
        save_vector_refs(
            session, kind,
            [
                VectorRef(d.id, *d.text_hashes, skills=d.skills, language=d.language,
                          section_hashes=d.section_hashes,
                          occupation_code=d.occupation_code)
                for d in documents
                if d.text_hashes is not None
            ],
        )  # fmt: skip
        if gone:
            old = vector_refs(session, kind, gone)
            delete_vector_refs(session, kind, gone)
            self.database_vectors[kind].forget(
                [
                    h
                    for ref in old.values()
                    for h in (ref.content_hash, ref.title_hash, *ref.section_hashes)
                ]
            )

    def _checkpoint_due(self) -> bool:
        return self._since_checkpoint >= self.checkpoint_every_events or (
            self._since_checkpoint > 0
            and time.monotonic() - self._last_checkpoint >= self.checkpoint_interval_s
        )

    def checkpoint(self) -> None:
        """Make the indexes durable, then forget the events they now cover."""
        with self._lock:
            self._checkpoint_locked()

    def _checkpoint_locked(self) -> None:
        for index in self.indexes.values():
            index.checkpoint(applied_through=self._applied_through)  # None: keep the stored one
        with self.db.session() as session:
            outbox.forget_applied(session)
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()

    def reindex(self, *, kinds: Sequence[EntityKind] | None = None, batch_size: int = 512) -> int:
        """Rebuild indexes from the database (the source of truth); returns documents indexed."""
        total = 0
        with self._lock:
            # Events issued from here on may be missed by the rows read below: they stay
            # pending and are applied next, so the marker is the id issued before reading.
            issued = self._last_issued_event()
            started = utcnow()
            self._applied_through = max(self._applied_through or 0, issued)
            for kind in kinds or list(self.indexes):
                index = self.indexes[kind]
                # Behind an alias the old index answers searches until the new one is whole;
                # otherwise the index is emptied and refilled.
                rebuild = index if isinstance(index, RebuildsBehindAlias) else None
                if rebuild is not None:
                    rebuild.begin_rebuild()
                else:
                    index.clear()
                try:
                    total += self._refill(kind, batch_size)
                except Exception:
                    if rebuild is not None:
                        rebuild.abort_rebuild()
                    raise
                if rebuild is not None:
                    rebuild.finish_rebuild()
                    # Other processes kept applying changes to the old index while this one
                    # was filled: apply everything that changed since, now to the new one.
                    self._reapply_changed_since(kind, issued, started)
                if kind in self.database_vectors:
                    with self.db.session() as session:
                        delete_orphan_refs(session, kind)
            self._checkpoint_locked()
        return total

    def _reapply_changed_since(self, kind: EntityKind, issued: int, started: datetime) -> None:
        """Index again every ``kind`` row changed since a rebuild began: rows updated since
        ``started``, and entities of outbox events after ``issued`` that the database still
        holds (deletions among them)."""
        model = Job if kind is EntityKind.JOB else Candidate
        with self.db.session() as session:
            ids = set(session.scalars(select(model.id).where(model.updated_at >= started)))
            ids.update(
                session.scalars(
                    select(OutboxEvent.entity_id).where(
                        OutboxEvent.entity == kind.value, OutboxEvent.id > issued
                    )
                )
            )
        ordered = sorted(ids)
        for start in range(0, len(ordered), 512):
            with self.db.session() as session:
                self._apply(session, kind, ordered[start : start + 512])
        self.indexes[kind].commit()

    def _refill(self, kind: EntityKind, batch_size: int) -> int:
        """Write every row of ``kind`` to its index, in batches; returns how many."""
        model = Job if kind is EntityKind.JOB else Candidate
        with self.db.session() as session:
            ids = list(session.scalars(select(model.id).order_by(model.id)))
        for start in range(0, len(ids), batch_size):
            with self.db.session() as session:
                self._apply(session, kind, ids[start : start + batch_size])
            self.last_progress = time.monotonic()
        self.indexes[kind].commit()
        return len(ids)

    # -- background worker -------------------------------------------------------------------

    def start(self, poll_interval_s: float, *, recover_first: bool = False) -> None:
        """Poll the outbox in a thread: picks up writes from other processes and retries.
        ``recover_first``: run start-up recovery in that thread, so the service answers
        while a large backlog is indexed."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(poll_interval_s, recover_first), name="outbox-sync",
            daemon=True,
        )  # fmt: skip
        self._thread.start()

    def recover_now(self) -> None:
        """Start-up recovery in the caller's thread."""
        try:
            self.recover()
        finally:
            self.recovered.set()

    def _run(self, poll_interval_s: float, recover_first: bool) -> None:
        if recover_first:
            try:
                self.recover_now()
            except Exception as exc:  # the poll loop below retries the events
                self.stats.last_error = describe_failure(exc)
                log.error("index recovery failed: %s", self.stats.last_error)
        while not self._stop.wait(poll_interval_s):
            self.last_progress = time.monotonic()
            try:
                self.drain()
                self.stats.last_error = None
            except Exception as exc:  # keep polling: the next round retries the same events
                self.stats.last_error = describe_failure(exc)
                log.error("outbox sync failed: %s", self.stats.last_error)

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
