"""Job postings: create-or-update by external id, read with visibility rules, patch, delete.
Every write records an outbox event in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from core.domain import EntityKind
from core.errors import Forbidden, NotFound
from ingestion.dedup import bands, posting_fingerprint_text, same_posting, simhash
from store.external_ids import ensure_external_id_free, find_by_external_id
from store.models import Job, utcnow
from store.normalize import (
    check_salary_range,
    clean_list,
    normalize_education_level,
    normalize_place,
)
from store.outbox import record_change
from store.records import rows_by_ids
from taxonomy.occupations import code_title

JOB_FIELDS = (
    "external_id", "title", "description", "company", "city", "district", "remote",
    "salary_min", "salary_max", "employment_type", "required_skills", "preferred_skills",
    "min_years_experience", "education", "language", "private", "posted_at", "salary_months",
    "benefits", "extraction",
)  # fmt: skip


def _apply(job: Job, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    place = normalize_place(job.city, job.district)
    job.city, job.city_code = place.city, place.city_code
    job.district, job.district_code = place.district, place.district_code
    job.education = normalize_education_level(job.education, field="education")
    job.required_skills = clean_list(job.required_skills)
    job.preferred_skills = clean_list(job.preferred_skills)
    job.benefits = clean_list(job.benefits)
    job.title = job.title.strip()
    best = code_title(job.title)
    job.occupation_code = best.code if best else None
    job.occupation_confidence = best.confidence if best else None
    check_salary_range(job.salary_min, job.salary_max, field="salary_min")
    if job.posted_at is None:
        job.posted_at = utcnow()


# Built once: compiling this select for every posting cost more than running it.
_SAME_BAND = (
    select(Job.id, Job.title, Job.city_code, Job.simhash, Job.duplicate_of)
    .where(
        or_(
            Job.simhash_b0 == bindparam("b0"),
            Job.simhash_b1 == bindparam("b1"),
            Job.simhash_b2 == bindparam("b2"),
            Job.simhash_b3 == bindparam("b3"),
        ),
        or_(Job.private.is_(False), Job.tenant_id == bindparam("tenant_id")),
        Job.id != bindparam("job_id"),
    )
    .order_by(Job.id)
    .limit(50)
)


def _find_duplicate_group(session: Session, job: Job) -> int | None:
    """The group (earliest posting) this posting near-duplicates, among postings it may be
    grouped with: public ones of any tenant, private ones of its own."""
    text = posting_fingerprint_text(job.title, job.company, job.city, job.description or "")
    job.simhash = simhash(text)
    job.simhash_b0, job.simhash_b1, job.simhash_b2, job.simhash_b3 = bands(job.simhash)
    with session.no_autoflush:  # the posting itself need not be written to be compared
        candidates = session.execute(
            _SAME_BAND,
        {"b0": job.simhash_b0, "b1": job.simhash_b1, "b2": job.simhash_b2, "b3": job.simhash_b3,
             "tenant_id": job.tenant_id, "job_id": job.id if job.id is not None else -1},
        ).all()  # fmt: skip
    for other_id, title, city_code, other_hash, other_group in candidates:
        if other_hash is not None and same_posting(
            job.title, job.city_code, job.simhash, title, city_code, other_hash
        ):
            return int(other_group or other_id)
    return None


def upsert_job(session: Session, *, tenant_id: str, fields: dict[str, Any]) -> tuple[Job, bool]:
    """Create a posting, or replace the tenant's posting with the same external id.
    Returns the posting and whether it was created."""
    job = find_by_external_id(
        session, Job, tenant_id=tenant_id, external_id=fields.get("external_id")
    )
    created = job is None
    if job is None:
        job = Job(tenant_id=tenant_id)
        session.add(job)
    complete = dict.fromkeys(JOB_FIELDS)
    complete.update(
        remote=False, private=False, employment_type="full_time", description="",
        required_skills=[], preferred_skills=[], benefits=[],
    )  # fmt: skip
    complete.update(fields)
    _apply(job, complete)
    # Grouped before the flush: one INSERT, not an INSERT and then an UPDATE.
    job.duplicate_of = _find_duplicate_group(session, job)
    session.flush()
    record_change(session, EntityKind.JOB, job.id)
    return job, created


def get_visible_job(session: Session, job_id: int, *, viewer_tenant: str) -> Job:
    """A posting the viewer may see: its own, or another tenant's public one."""
    job = session.get(Job, job_id)
    if job is None or (job.private and job.tenant_id != viewer_tenant):
        raise NotFound(f"job {job_id} not found")
    return job


def get_owned_job(session: Session, job_id: int, *, tenant_id: str) -> Job:
    """A posting the tenant may change."""
    job = get_visible_job(session, job_id, viewer_tenant=tenant_id)
    if job.tenant_id != tenant_id:
        raise Forbidden(f"job {job_id} belongs to another tenant")
    return job


def update_job(session: Session, job: Job, changes: dict[str, Any]) -> Job:
    """Apply a partial update (the fields given, validated together with the rest)."""
    if "external_id" in changes:
        ensure_external_id_free(session, job, changes["external_id"])
    _apply(job, changes)
    job.duplicate_of = _find_duplicate_group(session, job)
    session.flush()
    record_change(session, EntityKind.JOB, job.id)
    return job


def delete_job(session: Session, job: Job) -> None:
    session.delete(job)
    session.flush()
    record_change(session, EntityKind.JOB, job.id)


def list_jobs(
    session: Session, *, viewer_tenant: str, own_only: bool, offset: int, limit: int
) -> tuple[list[Job], int]:
    """Postings newest first: the tenant's own, or all it can see."""
    condition = (
        Job.tenant_id == viewer_tenant
        if own_only
        else or_(Job.tenant_id == viewer_tenant, Job.private.is_(False))
    )
    total = session.scalar(select(func.count()).select_from(Job).where(condition)) or 0
    rows = session.scalars(
        select(Job)
        .where(condition)
        .order_by(Job.posted_at.desc(), Job.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def duplicates_of(session: Session, job: Job, *, viewer_tenant: str) -> list[Job]:
    """The other visible postings of the job's duplicate group, oldest first."""
    group = job.duplicate_of or job.id
    rows = session.scalars(
        select(Job)
        .where(
            or_(Job.id == group, Job.duplicate_of == group),
            Job.id != job.id,
            or_(Job.private.is_(False), Job.tenant_id == viewer_tenant),
        )
        .order_by(Job.id)
    )
    return list(rows)


def jobs_by_ids(session: Session, ids: list[int]) -> dict[int, Job]:
    return rows_by_ids(session, Job, ids)
