"""/v1/jobs: postings, visible to every tenant unless private."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status

from api.deps import JobsRead, JobsWrite, RuntimeDep, SessionDep, refuse_browser_keys
from api.runtime import index_now
from api.schemas import JobCreate, JobPage, JobRead, JobUpdate, PathId
from api.views import job_view
from store import jobs
from store.fairs import fair_job_ids, require_fair_posting

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", response_model=JobRead, status_code=status.HTTP_201_CREATED)
def create_or_update_job(
    body: JobCreate, principal: JobsWrite, runtime: RuntimeDep, response: Response
) -> JobRead:
    """Create a posting; an ``external_id`` the tenant already used updates that posting (200)."""
    with runtime.db.session() as session:
        job, created = jobs.upsert_job(
            session, tenant_id=principal.tenant_id, fields=body.model_dump()
        )
        result = JobRead.model_validate(job)
    index_now(runtime)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("", response_model=JobPage)
def list_jobs(
    principal: JobsRead,
    session: SessionDep,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
    scope: Literal["own", "visible"] = "own",
) -> JobPage:
    """The tenant's own postings (or all it can see), newest first. A fair's public key
    lists the postings shown at its fair."""
    items, total = jobs.list_jobs(
        session,
        viewer_tenant=principal.tenant_id,
        own_only=scope == "own" and principal.fair_id is None,
        offset=(page - 1) * page_size,
        limit=page_size,
        only_ids=fair_job_ids(session, principal.fair_id) if principal.fair_id else None,
    )
    return JobPage(
        items=[job_view(j, principal) for j in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/{job_id}", response_model=JobRead)
def get_job(job_id: PathId, principal: JobsRead, session: SessionDep) -> JobRead:
    if principal.fair_id is not None:
        require_fair_posting(session, principal.fair_id, job_id)
    return job_view(
        jobs.get_visible_job(session, job_id, viewer_tenant=principal.tenant_id), principal
    )


@router.get("/{job_id}/duplicates", response_model=list[JobRead])
def job_duplicates(job_id: PathId, principal: JobsRead, session: SessionDep) -> list[JobRead]:
    """The other postings of this posting's near-duplicate group that the caller can see."""
    refuse_browser_keys(principal)
    job = jobs.get_visible_job(session, job_id, viewer_tenant=principal.tenant_id)
    return [
        job_view(j, principal)
        for j in jobs.duplicates_of(session, job, viewer_tenant=principal.tenant_id)
    ]


@router.patch("/{job_id}", response_model=JobRead)
def update_job(
    job_id: PathId, body: JobUpdate, principal: JobsWrite, runtime: RuntimeDep
) -> JobRead:
    with runtime.db.session() as session:
        job = jobs.get_owned_job(session, job_id, tenant_id=principal.tenant_id)
        result = JobRead.model_validate(
            jobs.update_job(session, job, body.model_dump(exclude_unset=True))
        )
    index_now(runtime)
    return result


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(job_id: PathId, principal: JobsWrite, runtime: RuntimeDep) -> Response:
    with runtime.db.session() as session:
        jobs.delete_job(session, jobs.get_owned_job(session, job_id, tenant_id=principal.tenant_id))
    index_now(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
