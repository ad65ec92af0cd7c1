"""/v1/fairs: career fairs, and which postings each shows (what its widget searches)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from api.deps import FairsWrite, JobsRead, JobsWrite, RuntimeDep, SessionDep
from api.schemas import FairCreate, FairRead, JobRead, PathId
from api.views import job_view
from core.errors import NotFound
from store import fairs
from store.jobs import jobs_by_ids
from store.models import Fair

router = APIRouter(prefix="/v1/fairs", tags=["fairs"])


def _fair_read(session: Session, fair: Fair) -> FairRead:
    return FairRead(id=fair.id, tenant_id=fair.tenant_id, name=fair.name, apply_url=fair.apply_url,
                    postings=fairs.fair_posting_count(session, fair.id))  # fmt: skip


@router.post("", response_model=FairRead, status_code=status.HTTP_201_CREATED)
def create_fair(
    body: FairCreate, principal: FairsWrite, session: SessionDep, response: Response
) -> FairRead:
    """Create the caller's fair, or update it (200)."""
    fair, created = fairs.upsert_fair(session, tenant_id=principal.tenant_id, fair_id=body.id,
                                      name=body.name, apply_url=body.apply_url)  # fmt: skip
    if not created:
        response.status_code = status.HTTP_200_OK
    return _fair_read(session, fair)


@router.get("/{fair_id}", response_model=FairRead)
def get_fair(fair_id: str, principal: JobsRead, session: SessionDep) -> FairRead:
    """A fair and how many postings it shows (a public key sees its own fair only)."""
    if principal.fair_id is not None and principal.fair_id != fair_id:
        raise NotFound(f"fair {fair_id} not found")
    return _fair_read(session, fairs.get_fair(session, fair_id))


@router.get("/{fair_id}/postings", response_model=list[JobRead])
def fair_postings(fair_id: str, principal: JobsRead, session: SessionDep) -> list[JobRead]:
    if principal.fair_id is not None and principal.fair_id != fair_id:
        raise NotFound(f"fair {fair_id} not found")
    fairs.get_fair(session, fair_id)
    rows = jobs_by_ids(session, fairs.fair_job_ids(session, fair_id))
    return [job_view(rows[i], principal) for i in sorted(rows)]


@router.put("/{fair_id}/postings/{job_id}", status_code=status.HTTP_201_CREATED)
def publish_posting(fair_id: str, job_id: PathId, principal: JobsWrite, runtime: RuntimeDep,
                    session: SessionDep, response: Response) -> dict[str, object]:  # fmt: skip
    """Show a posting at a fair (the fair curates any public posting; an agency publishes
    its own). Idempotent: 200 when already shown."""
    if not fairs.publish(session, fair_id=fair_id, job_id=job_id, tenant_id=principal.tenant_id):
        response.status_code = status.HTTP_200_OK
    return {"fair_id": fair_id, "job_id": job_id, "published": True}


@router.delete("/{fair_id}/postings/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_posting(
    fair_id: str, job_id: PathId, principal: JobsWrite, session: SessionDep
) -> Response:
    fairs.unpublish(session, fair_id=fair_id, job_id=job_id, tenant_id=principal.tenant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
