"""SQLAlchemy ORM classes: the source of truth. Search indexes are derived from these rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from store.pii import EncryptedJSON, EncryptedText


def utcnow() -> datetime:
    return datetime.now(UTC)


# How long a posting without ``valid_through`` and a job seeker's profile count as open or
# active in market statistics: public employment services count a registration as valid for
# a limited time, and a board's postings are mostly filled or withdrawn within three months.
POSTING_VALIDITY = timedelta(days=90)
SEEKER_VALIDITY = timedelta(days=90)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# SQLite otherwise gives a deleted newest row's id to the next row (of any tenant), and
# whatever still refers to the old id would point at the newcomer. PostgreSQL never reuses.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Tenant(Base):
    """An agency, a career fair or a partner app: the unit of data isolation."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # What a posting write with an unlawful compliance flag does: "warn" (stored, flagged)
    # or "block" (refused).
    compliance_policy: Mapped[str] = mapped_column(String(8), default="warn", server_default="warn")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    """A key is ``tm_<key_id>_<secret>``; only a peppered hash of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Browser keys: the page origins allowed to use it (CORS and an Origin check).
    origins: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fair_id: Mapped[str | None] = mapped_column(String(64))  # public keys: the fair they serve
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # After a rotation: the key that replaced this one (this one then stops working).
    replaced_by: Mapped[str | None] = mapped_column(String(32))


class JobLshBucket(Base):
    """One LSH band bucket of a posting's MinHash: postings sharing a bucket are compared.
    The index lives in the database, so every process sees the same one and a lookup costs
    an index probe per band however many postings there are."""

    __tablename__ = "job_lsh_buckets"

    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id", name="uq_jobs_tenant_external"),
        Index("ix_jobs_tenant_posted", "tenant_id", "posted_at"),
        # Market statistics count the postings open in a period: posted before its end and
        # open until after its start.
        Index("ix_jobs_open", "posted_at", "open_until"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    company: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    city_code: Mapped[int | None] = mapped_column(Integer)
    district: Mapped[str | None] = mapped_column(String(100))
    district_code: Mapped[int | None] = mapped_column(Integer)
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    salary_min: Mapped[float | None] = mapped_column(Float)
    salary_max: Mapped[float | None] = mapped_column(Float)
    # CSCO 2022 occupation the title was coded to, and how sure the coder was.
    occupation_code: Mapped[str | None] = mapped_column(String(16))
    occupation_confidence: Mapped[float | None] = mapped_column(Float)
    # Months paid per year ("15-25K·13薪" → 13); the salary columns stay monthly.
    salary_months: Mapped[int | None] = mapped_column(Integer)
    benefits: Mapped[list[Any]] = mapped_column(JSON, default=list)
    employment_type: Mapped[str] = mapped_column(String(32), default="full_time")
    required_skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    preferred_skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    min_years_experience: Mapped[float | None] = mapped_column(Float)
    education: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fields read out of a posting file: {field: {"value", "confidence", "span"}}.
    extraction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Near-duplicate detection (core/fingerprints.py, store/jobs.py): the earliest posting of
    # the group this one duplicates (its MinHash and LSH buckets: ``minhash``, JobLshBucket).
    duplicate_of: Mapped[int | None] = mapped_column(Integer, index=True)
    # Discriminatory requirements found in the posting (core.compliance), checked on every
    # write: "ok", "advisory" or "unlawful", and the language-neutral flags (with any
    # operator review).
    compliance_status: Mapped[str | None] = mapped_column(String(16), index=True)
    # The operator's review of the flags: None (no flags), "pending" (one not yet reviewed)
    # or "reviewed".
    compliance_review: Mapped[str | None] = mapped_column(String(16), index=True)
    # No Python-side default: inserts written against an older schema must not name it.
    compliance_flags: Mapped[list[Any]] = mapped_column(JSON, server_default="[]")
    # The MinHash signature of the posting's normalized text (core/fingerprints.py), 128
    # little-endian uint32; its LSH buckets are rows of ``job_lsh_buckets``.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Positions to fill (招聘人数): market statistics sum it as demand.
    headcount: Mapped[int] = mapped_column(Integer, server_default="1")
    # When the posting stops accepting applicants, if the agency says; ``open_until`` is that
    # or, by default, POSTING_VALIDITY after posting (kept by ``_keep_open_until``).
    valid_through: Mapped[datetime | None] = mapped_column(UTCDateTime())
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id", name="uq_candidates_tenant_external"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    # Contacts and the texts that carry them are encrypted at rest (store.pii).
    # Deferred as a group: scoring hundreds of retrieved candidates decrypts none of it.
    email: Mapped[str | None] = mapped_column(EncryptedText(), deferred=True, deferred_group="pii")
    phone: Mapped[str | None] = mapped_column(EncryptedText(), deferred=True, deferred_group="pii")
    city: Mapped[str | None] = mapped_column(String(100))
    city_code: Mapped[int | None] = mapped_column(Integer)
    desired_titles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    desired_salary_min: Mapped[float | None] = mapped_column(Float)
    desired_salary_max: Mapped[float | None] = mapped_column(Float)
    desired_salary_months: Mapped[int | None] = mapped_column(Integer)  # "14薪"; None: not stated
    occupation_code: Mapped[str | None] = mapped_column(String(16))
    years_experience: Mapped[float | None] = mapped_column(Float)
    education: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    experience: Mapped[list[Any]] = mapped_column(JSON, default=list)
    skills: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    certificates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    resume_text: Mapped[str | None] = mapped_column(
        EncryptedText(), deferred=True, deferred_group="pii"
    )
    # Which fields were extracted from resume_text rather than given: {"skills": "resume_text"}.
    extracted_fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Fields read out of résumé text or files: {field: {"value", "confidence", "span"}}.
    extraction: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON(), deferred=True, deferred_group="pii"
    )
    # Identity keys for merging the same person arriving twice within a tenant: keyed
    # digests of the normalized e-mail and phone (store.pii.identity_digest).
    email_key: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(64), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    simhash_b0: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_b1: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_b2: Mapped[int | None] = mapped_column(Integer, index=True)
    simhash_b3: Mapped[int | None] = mapped_column(Integer, index=True)
    # A job seeker counts as active (market statistics) until SEEKER_VALIDITY after the last
    # change to the profile (kept by ``_keep_active_until``).
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    sources: Mapped[list[CandidateSource]] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", lazy="selectin",
        order_by="CandidateSource.id",
    )  # fmt: skip
    # Indexed for the statistics rollup, which rebuilds seekers by the month they registered.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CandidateSource(Base):
    """Every arrival of a person's data (API call, file, bulk row), kept when profiles merge."""

    __tablename__ = "candidate_sources"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id", name="uq_sources_tenant_external"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(200))
    matched_on: Mapped[str | None] = mapped_column(String(32))  # email, phone, resume, or None
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    candidate: Mapped[Candidate] = relationship(back_populates="sources")


class StoredFile(Base):
    """An uploaded original, kept content-addressed on disk, with the text read from it."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_entity", "entity", "entity_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IngestJob(Base):
    """A bulk load: its source file, where it stands, and per-record errors. Progress commits
    in the same transaction as the record it counts, so a resumed load neither skips nor
    repeats a record."""

    __tablename__ = "ingest_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    entity: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))  # jsonl, csv, zip
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)  # records consumed so far
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxEvent(Base):
    """Written in the same transaction as the change it announces; the index applies it
    (``applied``) and deletes it once an index checkpoint covers it."""

    __tablename__ = "outbox"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    applied: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EmbeddingCacheEntry(Base):
    """Embeddings keyed by (model id, sha256 of the text): a new model never reuses old vectors."""

    __tablename__ = "embedding_cache"

    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class DocumentVectorRef(Base):
    """Where a document's vectors live in the embedding cache (the hashes of the texts they
    embed), with the fields re-ranking reads beside them. Written as documents are indexed,
    for engines that keep no full-precision copy to hand back (Elasticsearch holds quantized
    vectors): matching and re-ranking read the vectors through these rows instead."""

    __tablename__ = "document_vectors"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title_hash: Mapped[str] = mapped_column(String(64))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Hashes of a candidate's section texts, whose vectors re-ranking scores by the best.
    section_hashes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True, default=list)
    occupation_code: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Feedback(Base):
    """What a recruiter or a job seeker did with a match (shortlisted, hired, applied…).
    One row per (tenant, posting, candidate, actor, action): recording it again changes
    nothing. Ranker training reads these rows as labels."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "job_id", "candidate_id", "actor", "action", name="uq_feedback_event"
        ),
        Index("ix_feedback_tenant_created", "tenant_id", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(String(16))  # recruiter, seeker
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    # The ranker model whose scores the actor saw, when the caller says so.
    model_version: Mapped[str | None] = mapped_column(String(64))
    # The pair's factor scores when the action was recorded ({"factors", "hard_mismatches"}):
    # training learns from the evidence ranking saw, keyword relevance included.
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RankerModelRow(Base):
    """A trained ranker model (``matching.ranker.RankerModel`` as JSON) of one tenant. At most
    one per tenant is active; without one the shipped default applies."""

    __tablename__ = "ranker_models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Held-out comparison with the model it replaced: {"candidate": {...}, "current": {...}}.
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Fair(Base):
    """A career fair (校园招聘会), run by a ``fair`` tenant, showing the postings published to it."""

    __tablename__ = "fairs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. szu-2026-autumn
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Where the widget's "apply" link points; {job_id} and {external_id} are filled in.
    apply_url: Mapped[str | None] = mapped_column(String(500))
    # Agency tenants whose postings the fair shows as soon as they publish them.
    publishers: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # Everyone else: "review" (a request waits for the fair's decision) or "allow_list_only"
    # (refused).
    approval: Mapped[str] = mapped_column(String(16), default="review", server_default="review")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FairPosting(Base):
    """A posting published to a fair, or a request to publish it there. Only ``approved``
    rows are shown; ``pending`` waits for the fair, and ``rejected``/``withdrawn`` (the fair's
    decisions) stay until the fair approves the posting again."""

    __tablename__ = "fair_postings"

    fair_id: Mapped[str] = mapped_column(
        ForeignKey("fairs.id", ondelete="CASCADE"), primary_key=True
    )
    job_id: Mapped[int] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    published_by: Mapped[str] = mapped_column(String(64))  # the tenant that published it
    status: Mapped[str] = mapped_column(
        String(16), default="approved", server_default="approved", index=True
    )
    decided_by: Mapped[str | None] = mapped_column(String(64))  # the fair tenant, when it did
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Consent(Base):
    """A person's consent to processing, as a partner app recorded it (PIPL art. 14): for
    what purpose, when, and which version of the consent text they agreed to."""

    __tablename__ = "consents"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text_version: Mapped[str] = mapped_column(String(64))
    recorded_by_key: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Who read, exported or erased a person's data, when and why. Holds ids only, never
    the personal data itself, so it survives the erasure it records."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))  # read, export, erase
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str | None] = mapped_column(String(200))


class IndexPurge(Base):
    """An index whose files still hold erased text until it is rewritten (durable, so a
    restart does not forget the purge an erasure asked for)."""

    __tablename__ = "index_purges"

    entity: Mapped[str] = mapped_column(String(16), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InstanceMeta(Base):
    """Facts about this installation that must survive restarts (e.g. the data key's check
    value, which tells a wrong key from the right one before anything is written)."""

    __tablename__ = "instance_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ServiceCount(Base):
    """How many services of one kind a client received on one day (job-seeker searches,
    recommendations and applications through partner apps and the career-fair widget):
    the plan's "job-seeker services" indicator. Counts only, never who asked."""

    __tablename__ = "service_counts"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD (UTC)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)  # partner, widget
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # search, recommendation …
    count: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(Job, "before_insert")
@event.listens_for(Job, "before_update")
def _keep_open_until(_mapper: object, _connection: object, job: Job) -> None:
    posted = job.posted_at or utcnow()
    job.open_until = job.valid_through or posted + POSTING_VALIDITY


@event.listens_for(Candidate, "before_insert")
@event.listens_for(Candidate, "before_update")
def _keep_active_until(_mapper: object, _connection: object, candidate: Candidate) -> None:
    candidate.active_until = utcnow() + SEEKER_VALIDITY


# --- market statistics rollups (store.market_rollup rebuilds them from jobs and candidates) ---
# Months are numbered year × 12 + month − 1. A posting belongs to one cohort (the month it was
# posted, the month it stops being open), and a period of whole months holds exactly the
# cohorts posted before its end and closing in or after its first month, so summing cohorts
# gives the same figures as counting postings.


class MarketPostingCell(Base):
    __tablename__ = "market_posting_cells"
    __table_args__ = (Index("ix_market_posting_cells_period", "dimension", "posted_month"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" = unknown
    city_code: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0 = unknown
    posted_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    close_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    positions: Mapped[int] = mapped_column(Integer)
    postings: Mapped[int] = mapped_column(Integer)
    employers: Mapped[int] = mapped_column(Integer)
    paid_postings: Mapped[int] = mapped_column(Integer)
    paid_employers: Mapped[int] = mapped_column(Integer)


class MarketWageBin(Base):
    __tablename__ = "market_wage_bins"
    __table_args__ = (Index("ix_market_wage_bins_period", "dimension", "posted_month"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    city_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    posted_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    close_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    pay_bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    postings: Mapped[int] = mapped_column(Integer)


class MarketSeekerCell(Base):
    __tablename__ = "market_seeker_cells"
    __table_args__ = (Index("ix_market_seeker_cells_period", "dimension", "created_month"),)

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    city_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    active_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    seekers: Mapped[int] = mapped_column(Integer)


class MarketEmployerMonth(Base):
    """The employers (company, or the agency for postings without one) posting in a month."""

    __tablename__ = "market_employer_months"

    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer: Mapped[str] = mapped_column(String(300), primary_key=True)


class MarketDirtyMonth(Base):
    """A month whose cohorts changed since the rollup was built (``kind``: ``job`` by the
    month posted, ``seeker`` by the month registered); ``changes`` counts the marks, so a
    rebuild clears only the marks it saw."""

    __tablename__ = "market_dirty_months"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=1)
