"""The operator's side of posting compliance: the review queue across tenants, reviews of
single flags (audited), and each tenant's policy. The checking itself happens on every
posting write (``store.jobs``, with ``core.compliance``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.compliance import status_of
from core.errors import InvalidInput, NotFound
from store.jobs import review_state
from store.models import AuditEvent, Job, Tenant, utcnow

POLICIES = ("warn", "block")
DECISIONS = ("confirmed", "false_positive")


def review_queue(
    session: Session, *, level: str | None, review: str | None, tenant_id: str | None,
    offset: int, limit: int,
) -> tuple[list[tuple[Job, Tenant]], int]:  # fmt: skip
    """Flagged postings of every tenant with their agency, most recently changed first:
    ``level`` (the posting's status: unlawful or advisory), ``review`` (pending or reviewed)
    and ``tenant_id`` narrow it."""
    conditions: list[ColumnElement[bool]] = [Job.compliance_review.is_not(None)]
    if level is not None:
        conditions.append(Job.compliance_status == level)
    if review is not None:
        conditions.append(Job.compliance_review == review)
    if tenant_id is not None:
        conditions.append(Job.tenant_id == tenant_id)
    total = session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
    rows = session.execute(
        select(Job, Tenant)
        .join(Tenant, Tenant.id == Job.tenant_id)
        .where(*conditions)
        .order_by(Job.updated_at.desc(), Job.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(job, tenant) for job, tenant in rows], int(total)


def review_flag(
    session: Session, *, job_id: int, index: int, decision: str, note: str | None, key_id: str
) -> Job:
    """Record the operator's decision on one flag of a posting (kept on the flag, and in the
    audit log); a false positive no longer counts towards the posting's status."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    flags: list[dict[str, Any]] = [dict(f) for f in job.compliance_flags or []]
    if not 0 <= index < len(flags):
        raise NotFound(f"job {job_id} has no flag {index}")
    flags[index]["review"] = {"decision": decision, "note": note,
                              "reviewed_at": utcnow().isoformat()}  # fmt: skip
    # A new list: the JSON column notices replacement, not changes inside it.
    job.compliance_flags = flags
    job.compliance_status = status_of(flags)
    job.compliance_review = review_state(flags)
    session.add(AuditEvent(
        tenant_id=job.tenant_id, key_id=key_id, action="compliance_review", entity="job",
        entity_id=job.id, purpose=f"flag {index} ({flags[index]['category']}): {decision}",
    ))  # fmt: skip
    session.flush()
    return job


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    """A tenant by id (404 when there is none)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return tenant


def set_compliance_policy(session: Session, tenant_id: str, policy: str) -> Tenant:
    """What the tenant's posting writes with an unlawful flag do: warn (stored, flagged) or
    block (refused)."""
    if policy not in POLICIES:
        raise InvalidInput(f"compliance_policy must be one of {', '.join(POLICIES)}",
                           field="compliance_policy")  # fmt: skip
    tenant = get_tenant(session, tenant_id)
    tenant.compliance_policy = policy
    session.flush()
    return tenant
