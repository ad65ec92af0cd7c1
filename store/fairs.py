"""Career fairs and the postings published to them."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from store.jobs import get_visible_job
from store.models import Fair, FairPosting, Job

_FAIR_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def upsert_fair(
    session: Session, *, tenant_id: str, fair_id: str, name: str, apply_url: str | None
) -> tuple[Fair, bool]:
    """Create the tenant's fair, or update it; another tenant's fair id is taken (409)."""
    if not _FAIR_ID.match(fair_id):
        raise InvalidInput("fair id must be 2-64 lower-case letters, digits, '.', '_' or '-'",
                           field="id")  # fmt: skip
    fair = session.get(Fair, fair_id)
    if fair is not None and fair.tenant_id != tenant_id:
        raise Conflict(
            f"fair id {fair_id!r} is taken", details=[{"field": "id", "message": "taken"}]
        )
    created = fair is None
    if fair is None:
        fair = Fair(id=fair_id, tenant_id=tenant_id)
        session.add(fair)
    fair.name, fair.apply_url = name, apply_url
    session.flush()
    return fair, created


def get_fair(session: Session, fair_id: str) -> Fair:
    fair = session.get(Fair, fair_id)
    if fair is None:
        raise NotFound(f"fair {fair_id} not found")
    return fair


def publish(session: Session, *, fair_id: str, job_id: int, tenant_id: str) -> bool:
    """Show a posting at a fair: the fair's own tenant curates any public posting, and an
    agency publishes its own. Returns whether it was newly published."""
    fair = get_fair(session, fair_id)
    job = get_visible_job(session, job_id, viewer_tenant=tenant_id)
    if fair.tenant_id != tenant_id and job.tenant_id != tenant_id:
        raise Forbidden("only the fair or the posting's owner can publish it there")
    if job.private and job.tenant_id != fair.tenant_id:
        raise InvalidInput("a private posting cannot be shown at a fair", field="job_id")
    if session.get(FairPosting, (fair_id, job_id)) is not None:
        return False
    session.add(FairPosting(fair_id=fair_id, job_id=job_id, published_by=tenant_id))
    session.flush()
    return True


def unpublish(session: Session, *, fair_id: str, job_id: int, tenant_id: str) -> None:
    fair = get_fair(session, fair_id)
    row = session.get(FairPosting, (fair_id, job_id))
    if row is None:
        raise NotFound(f"job {job_id} is not published at {fair_id}")
    job = session.get(Job, job_id)
    if fair.tenant_id != tenant_id and (job is None or job.tenant_id != tenant_id):
        raise Forbidden("only the fair or the posting's owner can withdraw it")
    session.delete(row)
    session.flush()


def fair_job_ids(session: Session, fair_id: str) -> list[int]:
    """The postings shown at a fair (public ones, or the fair tenant's own)."""
    return list(
        session.scalars(
            select(FairPosting.job_id)
            .where(FairPosting.fair_id == fair_id)
            .order_by(FairPosting.job_id)
        )
    )


def require_fair_posting(session: Session, fair_id: str, job_id: int) -> None:
    """For a fair's public key: a posting not shown at its fair does not exist."""
    if session.get(FairPosting, (fair_id, job_id)) is None:
        raise NotFound(f"job {job_id} not found")


def fair_posting_count(session: Session, fair_id: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(FairPosting).where(FairPosting.fair_id == fair_id)
        )
        or 0
    )
