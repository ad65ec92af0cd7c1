"""Career fairs and the postings published to them. The fair decides who publishes: the
agencies on its ``publishers`` list show their postings directly, anyone else's request
waits for the fair's review (``approval="review"``) or is refused (``"allow_list_only"``),
and the fair's own tenant shows any public posting directly. A posting the fair rejected or
withdrew stays off the fair until the fair approves it again: its owner cannot put it back.

A fair posting's ``status``: ``pending`` (asked, not decided), ``approved`` (shown),
``rejected`` (a request the fair turned down), ``withdrawn`` (the fair took it down). Only
approved postings that are still public (or the fair tenant's own) and carry no unlawful
compliance flag are shown, through the one visibility rule in ``store.jobs.visible_to``:
publishing an unlawful posting is refused, and one that becomes unlawful by an edit is hidden
from its fairs (its approval kept, so a corrected posting shows again)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.compliance import UNLAWFUL
from core.errors import Conflict, Forbidden, InvalidInput, NoncompliantPosting, NotFound
from store.jobs import APPROVED, get_visible_job, visible_to
from store.models import Fair, FairPosting, Job, utcnow

PENDING, REJECTED, WITHDRAWN = "pending", "rejected", "withdrawn"
STATUSES = (PENDING, APPROVED, REJECTED, WITHDRAWN)
APPROVAL_MODES = ("review", "allow_list_only")
# The fair's decisions: its owner's PUT does not undo them.
_DECIDED_AGAINST = (REJECTED, WITHDRAWN)

_FAIR_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def upsert_fair(
    session: Session, *, tenant_id: str, fair_id: str, name: str, apply_url: str | None,
    publishers: Sequence[str] = (), approval: str = "review",
) -> tuple[Fair, bool]:  # fmt: skip
    """Create the tenant's fair, or replace its settings; another tenant's fair id is taken
    (409). ``publishers``: agency tenants that publish directly; ``approval``: what happens
    to anyone else's request ("review": it waits for the fair; "allow_list_only": refused)."""
    if not _FAIR_ID.fullmatch(fair_id):
        raise InvalidInput("fair id must be 2-64 lower-case letters, digits, '.', '_' or '-'",
                           field="id")  # fmt: skip
    if approval not in APPROVAL_MODES:
        raise InvalidInput(f"approval must be one of {', '.join(APPROVAL_MODES)}",
                           field="approval")  # fmt: skip
    for i, publisher in enumerate(publishers):
        if not _TENANT_ID.fullmatch(publisher):
            raise InvalidInput(f"not a tenant id: {publisher!r}", field=f"publishers.{i}")
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
    fair.publishers = sorted(set(publishers) - {tenant_id})
    fair.approval = approval
    session.flush()
    return fair, created


def get_fair(session: Session, fair_id: str) -> Fair:
    """A fair by id (404 when there is none)."""
    fair = session.get(Fair, fair_id)
    if fair is None:
        raise NotFound(f"fair {fair_id} not found")
    return fair


def _decide(row: FairPosting, status: str, fair: Fair) -> None:
    row.status, row.decided_by, row.decided_at = status, fair.tenant_id, utcnow()


def _showable(job: Job, fair: Fair) -> None:
    if job.private and job.tenant_id != fair.tenant_id:
        raise InvalidInput("a private posting cannot be shown at a fair", field="job_id")
    if job.compliance_status == UNLAWFUL:
        raise NoncompliantPosting(
            f"job {job.id} states requirements the law forbids; a fair cannot show it",
            flags=[f for f in job.compliance_flags or [] if f["level"] == UNLAWFUL
                   and (f.get("review") or {}).get("decision") != "false_positive"],
        )  # fmt: skip


def publish(
    session: Session, *, fair_id: str, job_id: int, tenant_id: str
) -> tuple[FairPosting, bool]:
    """Show a posting at a fair, or ask to. The fair's own tenant shows any public posting
    (approving a request); a listed publisher shows its own at once; another agency's
    request is pending (``review``) or refused (``allow_list_only``). A posting the fair
    rejected or withdrew is a 409 for its owner. Returns the row and whether it changed."""
    fair = get_fair(session, fair_id)
    job = get_visible_job(session, job_id, viewer_tenant=tenant_id)
    is_fair = fair.tenant_id == tenant_id
    if not is_fair and job.tenant_id != tenant_id:
        raise Forbidden("only the fair or the posting's owner can publish it there")
    _showable(job, fair)
    row = session.get(FairPosting, (fair_id, job_id))
    if is_fair:
        if row is not None and row.status == APPROVED:
            return row, False
        if row is None:
            row = FairPosting(fair_id=fair_id, job_id=job_id, published_by=tenant_id)
            session.add(row)
        _decide(row, APPROVED, fair)
        session.flush()
        return row, True
    listed = tenant_id in (fair.publishers or [])
    if row is not None:
        if row.status in _DECIDED_AGAINST:
            raise Conflict(
                f"the fair {row.status} job {job_id}; only the fair can show it again",
                details=[{"field": "job_id", "message": row.status}],
            )
        if row.status == PENDING and listed:  # asked before the fair listed the agency
            row.status = APPROVED
            session.flush()
            return row, True
        return row, False  # already shown, or already waiting for the fair
    if not listed and fair.approval != "review":
        raise Forbidden("this fair shows postings of the agencies it lists only")
    row = FairPosting(fair_id=fair_id, job_id=job_id, published_by=tenant_id,
                      status=APPROVED if listed else PENDING)  # fmt: skip
    session.add(row)
    session.flush()
    return row, True


def unpublish(session: Session, *, fair_id: str, job_id: int, tenant_id: str) -> None:
    """Take a posting off a fair. The fair withdraws it (it stays off until the fair approves
    it again; a pending request becomes rejected); its owner retracts a pending or shown
    posting (the row goes) but cannot erase the fair's decision against it."""
    fair = get_fair(session, fair_id)
    row = session.get(FairPosting, (fair_id, job_id))
    if row is None:
        raise NotFound(f"job {job_id} is not published at {fair_id}")
    job = session.get(Job, job_id)
    if fair.tenant_id == tenant_id:
        if row.status == PENDING:
            _decide(row, REJECTED, fair)
        elif row.status == APPROVED:
            _decide(row, WITHDRAWN, fair)
    elif job is not None and job.tenant_id == tenant_id:
        if row.status not in _DECIDED_AGAINST:
            session.delete(row)
    else:
        raise Forbidden("only the fair or the posting's owner can withdraw it")
    session.flush()


def _fair_request(session: Session, fair: Fair, job_id: int, tenant_id: str) -> FairPosting:
    if fair.tenant_id != tenant_id:
        raise Forbidden("only the fair decides which postings it shows")
    row = session.get(FairPosting, (fair.id, job_id))
    if row is None:
        raise NotFound(f"job {job_id} was never published at {fair.id}")
    return row


def approve(session: Session, *, fair_id: str, job_id: int, tenant_id: str) -> FairPosting:
    """The fair shows a requested (or rejected, or withdrawn) posting."""
    fair = get_fair(session, fair_id)
    row = _fair_request(session, fair, job_id, tenant_id)
    _showable(get_visible_job(session, job_id, viewer_tenant=tenant_id), fair)
    _decide(row, APPROVED, fair)
    session.flush()
    return row


def reject(session: Session, *, fair_id: str, job_id: int, tenant_id: str) -> FairPosting:
    """The fair turns a request down (or takes a shown posting down); it stays off the fair
    until the fair approves it."""
    fair = get_fair(session, fair_id)
    row = _fair_request(session, fair, job_id, tenant_id)
    get_visible_job(session, job_id, viewer_tenant=tenant_id)
    _decide(row, REJECTED if row.status == PENDING else WITHDRAWN, fair)
    session.flush()
    return row


def publish_requests(
    session: Session, *, fair_id: str, tenant_id: str, status: str | None, offset: int,
    limit: int,
) -> list[tuple[FairPosting, Job]]:  # fmt: skip
    """The fair's publish requests and decisions (of one ``status``), oldest first, with the
    postings the fair may see (a request for a posting made private since drops out)."""
    fair = get_fair(session, fair_id)
    if fair.tenant_id != tenant_id:
        raise Forbidden("only the fair reviews the requests to publish there")
    query = (
        select(FairPosting, Job)
        .join(Job, Job.id == FairPosting.job_id)
        .where(FairPosting.fair_id == fair_id, visible_to(tenant_id))
        .order_by(FairPosting.created_at, FairPosting.job_id)
        .offset(offset)
        .limit(limit)
    )
    if status is not None:
        query = query.where(FairPosting.status == status)
    return [(row, job) for row, job in session.execute(query)]
