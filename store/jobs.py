"""Job postings: create-or-update by external id, read with visibility rules, patch, delete.
Every write records an outbox event in the same transaction.

Visibility is one rule, ``visible_to``, and every read of postings goes through it (lists,
single reads, search results, matches, duplicate groups, fairs): a posting is visible to a
tenant when it is the tenant's own or not private; seen through a fair (a fair's browser
key, or the fair's postings list) it must also be shown there: approved by the fair,
public unless the fair's own tenant owns it, and without an unlawful compliance flag. A fair posting that became private keeps its
row (its approval) but is not shown until it is public again."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import ColumnElement, Table, and_, bindparam, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from core.compliance import UNLAWFUL, check_posting, status_of
from core.domain import EntityKind
from core.errors import Forbidden, NoncompliantPosting, NotFound
from core.fingerprints import (
    DUPLICATE_THRESHOLD,
    lsh_buckets,
    minhash_bytes,
    minhash_from_bytes,
    posting_minhash,
    same_posting_by_minhash,
)
from store.external_ids import ensure_external_id_free, find_by_external_ids
from store.files import delete_files_of
from store.models import Fair, FairPosting, Job, JobLshBucket, Tenant, utcnow
from store.normalize import (
    check_salary_range,
    clean_list,
    normalize_education_level,
    normalize_place,
)
from store.outbox import record_change
from store.records import rows_by_ids
from taxonomy.occupations import OccupationMatch, code_title, code_titles

JOB_FIELDS = (
    "external_id", "title", "description", "company", "city", "district", "remote",
    "salary_min", "salary_max", "employment_type", "required_skills", "preferred_skills",
    "min_years_experience", "education", "language", "private", "posted_at", "salary_months",
    "benefits", "extraction", "headcount", "valid_through",
)  # fmt: skip


def job_fields(job: Job) -> dict[str, Any]:
    """A stored posting's input fields (what a partial update starts from)."""
    return {name: getattr(job, name) for name in JOB_FIELDS}


_UNCODED: Any = object()  # ``_apply``: code the title here


def _apply(job: Job, fields: dict[str, Any], occupation: OccupationMatch | None = _UNCODED) -> None:
    """Set and normalize the fields; ``occupation``: the title's code when the caller coded
    it already (a batch codes its titles at once)."""
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
    best = code_title(job.title) if occupation is _UNCODED else occupation
    job.occupation_code = best.code if best else None
    job.occupation_confidence = best.confidence if best else None
    check_salary_range(job.salary_min, job.salary_max, field="salary_min")
    if job.posted_at is None:
        job.posted_at = utcnow()


def _check_compliance(session: Session, job: Job) -> None:
    """Check the posting for discriminatory requirements (every write comes here), keeping
    the operator's reviews of flags that are still there; under the tenant's ``block``
    policy an unlawful one is refused (the caller's transaction then stores nothing)."""
    extra = {f"{name}.{i}": str(item) for name in ("required_skills", "preferred_skills")
             for i, item in enumerate(getattr(job, name) or [])}  # fmt: skip
    result = check_posting(job.title, job.description, extra=extra)
    reviews = {(f["category"], f["field"], f["text"]): f["review"]
               for f in job.compliance_flags or [] if f.get("review")}  # fmt: skip
    flags = []
    for flag in result.flags:
        stored = flag.as_stored()
        review = reviews.get((flag.category, flag.field, flag.text))
        if review is not None:
            stored["review"] = review
        flags.append(stored)
    status = status_of(flags)
    if status == UNLAWFUL:
        tenant = session.get(Tenant, job.tenant_id)
        if tenant is not None and tenant.compliance_policy == "block":
            unlawful = [f for f in flags if f["level"] == UNLAWFUL]
            raise NoncompliantPosting(
                "the posting states requirements the law forbids: "
                + ", ".join(f"{f['category']} ({f['text']})" for f in unlawful),
                flags=unlawful,
            )
    job.compliance_flags, job.compliance_status = flags, status
    job.compliance_review = review_state(flags)


def review_state(flags: list[dict[str, Any]]) -> str | None:
    """Where the operator's review of these flags stands: None (no flags), pending, reviewed."""
    if not flags:
        return None
    return "reviewed" if all(f.get("review") for f in flags) else "pending"


# Duplicate grouping looks up this many postings at once. Each LSH bucket keeps only its
# newest ``BUCKET_CAPACITY`` postings (by id): a lookup reads whole buckets, so their size,
# not the number of postings stored, bounds its cost. A posting pushed out of a crowded
# bucket is still found through its other buckets, and the newer postings that pushed it out
# carry its group (``duplicate_of``), so a repost of a popular text still joins that group.
_GROUPING_CHUNK = 100
BUCKET_CAPACITY = 32


def _fingerprint(job: Job) -> list[int]:
    """Store the posting's MinHash; returns its LSH buckets."""
    signature = posting_minhash(job.title, job.city, job.description or "")
    job.minhash = minhash_bytes(signature)
    return lsh_buckets(signature)


def _replace_buckets(
    session: Session, buckets: dict[int, list[int]], members: dict[int, list[int]]
) -> None:
    """Each (flushed) posting's LSH buckets, replacing the ones of its previous text; a bucket
    that would hold more than ``BUCKET_CAPACITY`` postings keeps the newest. ``members``: the
    buckets' postings before this call (``_group_duplicates`` read them)."""
    if not buckets:
        return
    session.execute(
        delete(JobLshBucket).where(JobLshBucket.job_id.in_(bindparam("ids", expanding=True))),
        {"ids": sorted(buckets)},
    )
    newcomers: dict[int, list[int]] = {}
    for job_id, keys in buckets.items():
        for key in set(keys):
            newcomers.setdefault(key, []).append(job_id)
    rows: list[dict[str, int]] = []
    evicted: list[tuple[int, int]] = []
    for key, ids in newcomers.items():
        others = [m for m in members.get(key, ()) if m not in buckets]
        kept = set(sorted(others + ids)[-BUCKET_CAPACITY:])
        rows += [{"bucket": key, "job_id": job_id} for job_id in ids if job_id in kept]
        evicted += [(key, m) for m in others if m not in kept]
    table = cast(Table, JobLshBucket.__table__)
    if evicted:
        # One primary-key delete per row (executemany): a row-value IN list makes SQLite scan
        # the whole table.
        session.execute(
            delete(table).where(
                table.c.bucket == bindparam("old_bucket"), table.c.job_id == bindparam("old_job")
            ),
            [{"old_bucket": key, "old_job": job_id} for key, job_id in evicted],
        )
    if rows:
        # On the table, not the ORM class: the ORM's bulk insert spends more per row (~32 a
        # posting) building parameters than the database spends storing them.
        session.execute(insert(table), rows)


# Lists of ids bound as one expanding parameter: built from a Python list at each call,
# ``in_`` coerces every element, which for thousands of bucket keys costs more than the query.
_BUCKET_MEMBERS = select(JobLshBucket.bucket, JobLshBucket.job_id).where(
    JobLshBucket.bucket.in_(bindparam("keys", expanding=True))
)
_CANDIDATES = select(Job.id, Job.title, Job.city_code, Job.minhash, Job.duplicate_of).where(
    Job.id.in_(bindparam("ids", expanding=True)),
    or_(Job.private.is_(False), Job.tenant_id == bindparam("tenant")),
)


def _group_duplicates(
    session: Session, tenant_id: str, jobs: list[Job], buckets: dict[int, list[int]]
) -> dict[int, list[int]]:
    """Set ``duplicate_of`` of each (flushed) posting of one tenant: the group (earliest
    posting) it near-duplicates, among postings it may be grouped with (public ones of any
    tenant, private ones of its own). Candidates share an LSH bucket (buckets are bounded,
    so the cost per posting does not grow with the number of postings); they are confirmed by
    their estimated Jaccard, city and title words, earliest first. Postings of the same call
    are grouped in order, each with the ones before it, never with a later one. Returns the
    postings each of the looked-up buckets held before this call (for ``_replace_buckets``)."""
    position = {job.id: i for i, job in enumerate(jobs)}
    members: dict[int, list[int]] = {}  # bucket → stored postings (any tenant)
    stored: dict[int, Any] = {}  # id → a stored candidate the tenant may be grouped with
    fetched: set[int] = set()
    in_call: dict[int, list[Job]] = {}  # bucket → this call's newest postings grouped so far
    in_call_jobs: dict[int, Job] = {}
    signatures: dict[int, np.ndarray] = {}

    def signature_of(row: Any) -> np.ndarray:
        if row.id not in signatures:
            signatures[row.id] = minhash_from_bytes(row.minhash)
        return signatures[row.id]

    for start in range(0, len(jobs), _GROUPING_CHUNK):
        chunk = jobs[start : start + _GROUPING_CHUNK]
        wanted = sorted({k for job in chunk for k in buckets[job.id]} - members.keys())
        with session.no_autoflush:
            for key in wanted:
                members[key] = []
            for part in range(0, len(wanted), 2000):
                pairs = session.execute(_BUCKET_MEMBERS, {"keys": wanted[part : part + 2000]})
                for key, job_id in pairs:
                    members[key].append(job_id)
            # This call's postings are compared with one another through ``in_call`` (their
            # stored buckets may be of their previous text).
            needed = sorted(
                {m for job in chunk for k in buckets[job.id] for m in members[k]}
                - fetched
                - position.keys()
            )
            for part in range(0, len(needed), 500):
                rows = session.execute(
                    _CANDIDATES, {"ids": needed[part : part + 500], "tenant": tenant_id}
                ).all()
                stored.update((row.id, row) for row in rows if row.minhash)
            fetched.update(needed)
        visible: dict[int, list[int]] = {}  # bucket → its stored candidates
        for job in chunk:
            job.duplicate_of = None
            keys = buckets[job.id]
            for key in keys:
                if key not in visible:
                    visible[key] = [m for m in members[key] if m in stored]
            seen: set[int] = set().union(*(visible[key] for key in keys))
            for key in keys:
                newest = in_call.setdefault(key, [])
                seen.update(earlier.id for earlier in newest)
            for key in keys:
                newest = in_call[key]
                newest.append(job)
                if len(newest) > BUCKET_CAPACITY:
                    del newest[0]
            in_call_jobs[job.id] = job
            if not seen:
                continue
            signature = minhash_from_bytes(job.minhash or b"")
            ids = sorted(seen)
            candidates: list[Any] = [stored.get(i) or in_call_jobs[i] for i in ids]
            # One comparison of every candidate's signature at once; the few that come close
            # enough are then checked in full, earliest first.
            alike = np.mean(np.stack([signature_of(c) for c in candidates]) == signature, axis=1)
            for index in np.flatnonzero(alike >= DUPLICATE_THRESHOLD):
                row = candidates[index]
                if same_posting_by_minhash(
                    job.title, job.city_code, signature,
                    row.title, row.city_code, signature_of(row),
                ):  # fmt: skip
                    # A posting of this call: its group as decided a moment ago.
                    job.duplicate_of = int(row.duplicate_of or row.id)
                    break
    return members


def fingerprint_and_group(session: Session, tenant_id: str, jobs: list[Job]) -> None:
    """Fingerprint postings of one tenant (as they now read), flush them, group each with the
    near-duplicates it may be grouped with, and write their LSH buckets."""
    keys = {id(job): _fingerprint(job) for job in jobs}
    session.flush()
    buckets = {job.id: keys[id(job)] for job in jobs}
    # Candidates are looked up before this call's buckets are written: a posting of the call
    # is compared with earlier ones of the call through ``in_call`` instead.
    members = _group_duplicates(session, tenant_id, jobs, buckets)
    _replace_buckets(session, buckets, members)


def upsert_job(session: Session, *, tenant_id: str, fields: dict[str, Any]) -> tuple[Job, bool]:
    """Create a posting, or replace the tenant's posting with the same external id.
    Returns the posting and whether it was created."""
    return upsert_jobs(session, tenant_id=tenant_id, records=[fields])[0]


def upsert_jobs(
    session: Session, *, tenant_id: str, records: list[dict[str, Any]]
) -> list[tuple[Job, bool]]:
    """``upsert_job`` for many postings of one tenant in one go: one lookup of their
    external ids, one batched INSERT, two duplicate-grouping queries per chunk. A later record
    with the same external id as an earlier one updates it. Raises ``InvalidInput`` for the
    first invalid record (the caller's transaction then holds nothing of the batch)."""
    # An empty external id is no id: "" would otherwise collide with the next "".
    records = [{**f, "external_id": (f.get("external_id") or "").strip() or None} for f in records]
    wanted = sorted({f["external_id"] for f in records if f["external_id"]})
    known = find_by_external_ids(session, Job, tenant_id=tenant_id, external_ids=wanted)
    # One coding of the batch's titles (as ``_apply`` strips them), each distinct title once;
    # a record whose title is not text is left to ``_apply`` to refuse.
    titles = {n: f["title"].strip() for n, f in enumerate(records)
              if isinstance(f.get("title"), str)}  # fmt: skip
    coded = dict(zip(titles, code_titles(list(titles.values())), strict=True))
    results: list[tuple[Job, bool]] = []
    for n, fields in enumerate(records):
        external_id = fields.get("external_id")
        job = known.get(external_id) if external_id else None
        created = job is None
        if job is None:
            job = Job(tenant_id=tenant_id)
            session.add(job)
            if external_id:
                known[external_id] = job
        complete = dict.fromkeys(JOB_FIELDS)
        complete.update(
            remote=False, private=False, employment_type="full_time", description="",
            required_skills=[], preferred_skills=[], benefits=[], headcount=1,
        )  # fmt: skip
        complete.update(fields)
        _apply(job, complete, coded.get(n, _UNCODED))
        _check_compliance(session, job)
        results.append((job, created))
    unique = list({id(job): job for job, _ in results}.values())
    fingerprint_and_group(session, tenant_id, unique)
    for job in unique:
        record_change(session, EntityKind.JOB, job.id)
    return results


APPROVED = "approved"


def shown_at_fair(fair_id: str) -> ColumnElement[bool]:
    """Postings a fair shows: approved there, public unless the fair's tenant owns them, and
    without an unlawful compliance flag."""
    fair_tenant = select(Fair.tenant_id).where(Fair.id == fair_id).scalar_subquery()
    approved = select(FairPosting.job_id).where(
        FairPosting.fair_id == fair_id, FairPosting.status == APPROVED
    )
    return and_(
        Job.id.in_(approved),
        or_(Job.private.is_(False), Job.tenant_id == fair_tenant),
        # An unlawful posting is hidden, its approval kept: corrected, it shows again.
        or_(Job.compliance_status.is_(None), Job.compliance_status != UNLAWFUL),
    )


def visible_to(viewer_tenant: str, *, fair_id: str | None = None) -> ColumnElement[bool]:
    """The visibility rule as a WHERE clause: the viewer's own postings and public ones; with
    ``fair_id`` (a fair's browser key, a fair's postings list), only those the fair shows."""
    rule = or_(Job.private.is_(False), Job.tenant_id == viewer_tenant)
    if fair_id is not None:
        rule = and_(rule, shown_at_fair(fair_id))
    return rule


def get_visible_job(
    session: Session, job_id: int, *, viewer_tenant: str, fair_id: str | None = None
) -> Job:
    """A posting the viewer may see (``visible_to``); any other id does not exist (404)."""
    job = session.scalar(select(Job).where(Job.id == job_id, visible_to(viewer_tenant,
                                                                        fair_id=fair_id)))  # fmt: skip
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


def visible_jobs_by_ids(
    session: Session, ids: list[int], *, viewer_tenant: str, fair_id: str | None = None
) -> dict[int, Job]:
    """Of these postings, the ones the viewer may see (search hits, match candidates)."""
    found: dict[int, Job] = {}
    rule = visible_to(viewer_tenant, fair_id=fair_id)
    for start in range(0, len(ids), 500):
        query = select(Job).where(Job.id.in_(ids[start : start + 500]), rule)
        for row in session.scalars(query):
            found[row.id] = row
    return found


def visible_job_ids(session: Session, *, viewer_tenant: str, fair_id: str) -> list[int]:
    """The ids of the postings a fair shows that the viewer may see (what its search covers)."""
    return list(
        session.scalars(
            select(Job.id).where(visible_to(viewer_tenant, fair_id=fair_id)).order_by(Job.id)
        )
    )


def count_visible(session: Session, *, viewer_tenant: str, fair_id: str | None = None) -> int:
    """How many postings the viewer may see (at the fair, with ``fair_id``)."""
    query = select(func.count()).select_from(Job).where(visible_to(viewer_tenant, fair_id=fair_id))
    return int(session.scalar(query) or 0)


def get_owned_job(session: Session, job_id: int, *, tenant_id: str) -> Job:
    """A posting the tenant may change."""
    job = get_visible_job(session, job_id, viewer_tenant=tenant_id)
    if job.tenant_id != tenant_id:
        raise Forbidden(f"job {job_id} belongs to another tenant")
    return job


def update_job(session: Session, job: Job, changes: dict[str, Any]) -> Job:
    """Apply a partial update (the fields given, validated together with the rest)."""
    if "external_id" in changes:
        changes = {**changes, "external_id": (changes["external_id"] or "").strip() or None}
        ensure_external_id_free(session, job, changes["external_id"])
    _apply(job, changes)
    _check_compliance(session, job)
    fingerprint_and_group(session, job.tenant_id, [job])
    record_change(session, EntityKind.JOB, job.id)
    return job


def delete_job(session: Session, files_dir: Path, job: Job) -> list[Path]:
    """Delete a posting with everything keyed by it: its stored files (rows now, content
    files by the caller once committed: returned), fair listings and feedback (by cascade).
    A posting others were grouped under hands its group to the earliest remaining member."""
    orphans = delete_files_of(session, files_dir, EntityKind.JOB, job.id)
    members = list(session.scalars(select(Job).where(Job.duplicate_of == job.id).order_by(Job.id)))
    session.delete(job)
    session.flush()
    if members:
        head, rest = members[0], members[1:]
        head.duplicate_of = None
        for member in rest:
            member.duplicate_of = head.id
        for member in members:
            record_change(session, EntityKind.JOB, member.id)
    record_change(session, EntityKind.JOB, job.id)
    return orphans


def list_jobs(
    session: Session, *, viewer_tenant: str, own_only: bool, offset: int, limit: int,
    fair_id: str | None = None,
) -> tuple[list[Job], int]:  # fmt: skip
    """Postings newest first: the tenant's own, or all it can see (``fair_id``: all it can see
    at that fair)."""
    condition = visible_to(viewer_tenant, fair_id=fair_id)
    if own_only:
        condition = and_(condition, Job.tenant_id == viewer_tenant)
    total = session.scalar(select(func.count()).select_from(Job).where(condition)) or 0
    rows = session.scalars(
        select(Job)
        .where(condition)
        .order_by(Job.posted_at.desc(), Job.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total)


def _group() -> ColumnElement[int]:
    """A posting's duplicate group: the group's first posting, or itself when alone."""
    return func.coalesce(Job.duplicate_of, Job.id)


def duplicates_of(
    session: Session, job: Job, *, viewer_tenant: str, fair_id: str | None = None
) -> list[Job]:
    """The other visible postings of the job's duplicate group, oldest first."""
    group = job.duplicate_of or job.id
    rows = session.scalars(
        select(Job)
        .where(
            or_(Job.id == group, Job.duplicate_of == group),
            Job.id != job.id,
            visible_to(viewer_tenant, fair_id=fair_id),
        )
        .order_by(Job.id)
    )
    return list(rows)


def shown_duplicate_of(
    session: Session, jobs: list[Job], *, viewer_tenant: str, fair_id: str | None = None
) -> dict[int, int | None]:
    """What each posting's ``duplicate_of`` reads as for this viewer: the group's first
    posting when the viewer may see it, else the group's earliest posting it may see (None
    when that is the posting itself). The id of a posting the viewer cannot see (one made
    private since it was grouped) is never given out."""
    groups: set[int] = {job.duplicate_of for job in jobs if job.duplicate_of is not None}
    members: dict[int, list[int]] = {}
    if groups:
        wanted = sorted(groups)
        rows = session.execute(
            select(Job.id, _group())
            .where(
                # coalesce(duplicate_of, id) IN wanted, written so both indexes serve it:
                # the expression itself would scan the whole table.
                or_(Job.duplicate_of.in_(wanted), Job.id.in_(wanted)),
                visible_to(viewer_tenant, fair_id=fair_id),
            )
            .order_by(Job.id)
        )
        for job_id, group in rows:
            # A group's first posting counts as its member even if regrouped since.
            for g in {int(group), int(job_id)} & groups:
                members.setdefault(g, []).append(int(job_id))
    shown: dict[int, int | None] = {}
    for job in jobs:
        head = job.duplicate_of
        seen = members.get(head, []) if head is not None else []
        if head is None or head == job.id or not seen:
            shown[job.id] = None
        elif head in seen:
            shown[job.id] = head
        else:
            shown[job.id] = seen[0] if seen[0] != job.id else None
    return shown


def jobs_by_ids(session: Session, ids: list[int]) -> dict[int, Job]:
    return rows_by_ids(session, Job, ids)
