"""/v1/fairs: career fairs, which postings each shows (what its widget searches), and the
fair's review of agencies' requests to publish there."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from api.deps import FairsWrite, JobsRead, JobsWrite, LanguageDep, RuntimeDep, SessionDep
from api.schemas import (
    FairCreate,
    FairPostingRead,
    FairRead,
    FairRequestPage,
    FairRequestRead,
    JobRead,
    PathId,
)
from api.views import job_views
from core.errors import NotFound
from store import fairs
from store.jobs import APPROVED, count_visible, list_jobs
from store.keys import Principal
from store.models import Fair, FairPosting

router = APIRouter(prefix="/v1/fairs", tags=["fairs"])


def _fair_read(session: Session, fair: Fair, principal: Principal) -> FairRead:
    shown = count_visible(session, viewer_tenant=principal.tenant_id, fair_id=fair.id)
    # Who may publish is the fair's own business, not its visitors' or other agencies'.
    runs_it = principal.tenant_id == fair.tenant_id and principal.role != "public"
    return FairRead.model_validate({
        "id": fair.id, "tenant_id": fair.tenant_id, "name": fair.name, "apply_url": fair.apply_url,
        "publishers": list(fair.publishers or []) if runs_it else None,
        "approval": fair.approval if runs_it else None, "postings": shown,
    })  # fmt: skip


def _posting_read(row: FairPosting) -> FairPostingRead:
    fields = {c: getattr(row, c) for c in FairPostingRead.model_fields if c != "published"}
    return FairPostingRead.model_validate({**fields, "published": row.status == APPROVED})


def _visible_fair(session: Session, fair_id: str, principal: Principal) -> Fair:
    """A fair's public key knows its own fair only."""
    if principal.fair_id is not None and principal.fair_id != fair_id:
        raise NotFound(f"fair {fair_id} not found")
    return fairs.get_fair(session, fair_id)


@router.post("", response_model=FairRead, status_code=status.HTTP_201_CREATED)
def create_fair(
    body: FairCreate, principal: FairsWrite, runtime: RuntimeDep, response: Response
) -> FairRead:
    """Create the caller's fair, or replace its settings (200)."""

    def upsert(session: Session) -> tuple[FairRead, bool]:
        fair, created = fairs.upsert_fair(
            session, tenant_id=principal.tenant_id, fair_id=body.id, name=body.name,
            apply_url=body.apply_url, publishers=body.publishers, approval=body.approval,
        )  # fmt: skip
        return _fair_read(session, fair, principal), created

    result, created = runtime.db.run_transaction(upsert)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("/{fair_id}", response_model=FairRead)
def get_fair(fair_id: str, principal: JobsRead, session: SessionDep) -> FairRead:
    """A fair and how many of the postings it shows the caller can see."""
    return _fair_read(session, _visible_fair(session, fair_id, principal), principal)


@router.get("/{fair_id}/postings", response_model=list[JobRead])
def fair_postings(
    fair_id: str, principal: JobsRead, session: SessionDep, language: LanguageDep
) -> list[JobRead]:
    """The postings the fair shows (approved, still public) that the caller can see."""
    _visible_fair(session, fair_id, principal)
    rows, _ = list_jobs(session, viewer_tenant=principal.tenant_id, own_only=False, offset=0,
                        limit=10_000, fair_id=fair_id)  # fmt: skip
    return job_views(session, sorted(rows, key=lambda j: j.id), principal, fair_id=fair_id,
                     language=language)  # fmt: skip


@router.get("/{fair_id}/requests", response_model=FairRequestPage)
def publish_requests(
    fair_id: str,
    principal: FairsWrite,
    session: SessionDep,
    request_status: Literal["pending", "approved", "rejected", "withdrawn"] | None = Query(
        None, alias="status", description="only requests in this state"
    ),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(50, ge=1, le=200),
    language: LanguageDep = "en",
) -> FairRequestPage:
    """The fair's publish requests and decisions, oldest first (the fair's tenant only)."""
    found = fairs.publish_requests(session, fair_id=fair_id, tenant_id=principal.tenant_id,
                                   status=request_status, offset=(page - 1) * page_size,
                                   limit=page_size)  # fmt: skip
    views = job_views(session, [job for _, job in found], principal, language=language)
    items = [
        FairRequestRead(**_posting_read(row).model_dump(), job=view)
        for (row, _), view in zip(found, views, strict=True)
    ]
    return FairRequestPage(items=items, page=page, page_size=page_size)


@router.put("/{fair_id}/postings/{job_id}", response_model=FairPostingRead,
            status_code=status.HTTP_201_CREATED)  # fmt: skip
def publish_posting(
    fair_id: str, job_id: PathId, principal: JobsWrite, runtime: RuntimeDep, response: Response
) -> FairPostingRead:
    """Show a posting at a fair: the fair shows any public posting (approving a request), a
    listed publisher its own (201; 200 when already shown); another agency's request waits
    for the fair (202, ``pending``). A posting the fair rejected or withdrew is 409."""

    def publish(session: Session) -> tuple[FairPostingRead, bool]:
        row, changed = fairs.publish(session, fair_id=fair_id, job_id=job_id,
                                     tenant_id=principal.tenant_id)  # fmt: skip
        return _posting_read(row), changed

    read, changed = runtime.db.run_transaction(publish)
    if not read.published:
        response.status_code = status.HTTP_202_ACCEPTED
    elif not changed:
        response.status_code = status.HTTP_200_OK
    return read


@router.post("/{fair_id}/postings/{job_id}:approve", response_model=FairPostingRead)
def approve_posting(
    fair_id: str, job_id: PathId, principal: FairsWrite, session: SessionDep
) -> FairPostingRead:
    """The fair shows a requested, rejected or withdrawn posting."""
    return _posting_read(
        fairs.approve(session, fair_id=fair_id, job_id=job_id, tenant_id=principal.tenant_id)
    )


@router.post("/{fair_id}/postings/{job_id}:reject", response_model=FairPostingRead)
def reject_posting(
    fair_id: str, job_id: PathId, principal: FairsWrite, session: SessionDep
) -> FairPostingRead:
    """The fair turns a request down (or takes a shown posting down) until it approves it."""
    return _posting_read(
        fairs.reject(session, fair_id=fair_id, job_id=job_id, tenant_id=principal.tenant_id)
    )


@router.delete("/{fair_id}/postings/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_posting(
    fair_id: str, job_id: PathId, principal: JobsWrite, session: SessionDep
) -> Response:
    """Take a posting off a fair: the fair withdraws it (it stays off until the fair approves
    it again); its owner retracts its own request or posting."""
    fairs.unpublish(session, fair_id=fair_id, job_id=job_id, tenant_id=principal.tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
