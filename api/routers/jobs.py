"""/v1/jobs: postings, visible to every tenant unless private."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from api.deps import (
    JobsRead,
    JobsWrite,
    LanguageDep,
    RuntimeDep,
    SessionDep,
    refuse_browser_keys,
)
from api.runtime import index_now, upsert_and_index
from api.schemas import JobCreate, JobPage, JobRead, JobUpdate, PathId
from api.views import job_views
from ingestion.posting_text import with_posting_extraction
from store import jobs
from store.files import remove_files

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("", response_model=JobRead, status_code=status.HTTP_201_CREATED)
def create_or_update_job(
    body: JobCreate, principal: JobsWrite, runtime: RuntimeDep, response: Response,
    language: LanguageDep,
) -> JobRead:  # fmt: skip
    """Create a posting; an ``external_id`` the tenant already used updates that posting (200)."""

    def upsert(session: Session) -> tuple[JobRead, bool]:
        fields = with_posting_extraction(body.model_dump(), given=body.model_fields_set)
        job, created = jobs.upsert_job(session, tenant_id=principal.tenant_id, fields=fields)
        [result] = job_views(session, [job], principal, language=language)
        return result, created

    return upsert_and_index(runtime, response, upsert)


@router.get("", response_model=JobPage)
def list_jobs(
    principal: JobsRead,
    session: SessionDep,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
    scope: Literal["own", "visible"] = "own",
    language: LanguageDep = "en",
) -> JobPage:
    """The tenant's own postings (or all it can see), newest first. A fair's public key
    lists the postings shown at its fair."""
    items, total = jobs.list_jobs(
        session,
        viewer_tenant=principal.tenant_id,
        own_only=scope == "own" and principal.fair_id is None,
        offset=(page - 1) * page_size,
        limit=page_size,
        fair_id=principal.fair_id,
    )
    return JobPage(
        items=job_views(session, items, principal, language=language),
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/{job_id}", response_model=JobRead)
def get_job(
    job_id: PathId, principal: JobsRead, session: SessionDep, language: LanguageDep
) -> JobRead:
    """A posting the caller can see (a fair's public key: one shown at its fair)."""
    job = jobs.get_visible_job(
        session, job_id, viewer_tenant=principal.tenant_id, fair_id=principal.fair_id
    )
    return job_views(session, [job], principal, language=language)[0]


@router.get("/{job_id}/duplicates", response_model=list[JobRead])
def job_duplicates(
    job_id: PathId, principal: JobsRead, session: SessionDep, language: LanguageDep
) -> list[JobRead]:
    """The other postings of this posting's near-duplicate group that the caller can see."""
    refuse_browser_keys(principal)
    job = jobs.get_visible_job(session, job_id, viewer_tenant=principal.tenant_id)
    group = jobs.duplicates_of(session, job, viewer_tenant=principal.tenant_id)
    return job_views(session, group, principal, language=language)


@router.patch("/{job_id}", response_model=JobRead)
def update_job(
    job_id: PathId, body: JobUpdate, principal: JobsWrite, runtime: RuntimeDep,
    language: LanguageDep,
) -> JobRead:  # fmt: skip
    with runtime.db.session() as session:
        job = jobs.get_owned_job(session, job_id, tenant_id=principal.tenant_id)
        changes = body.model_dump(exclude_unset=True)
        changes = with_posting_extraction(changes, given=set(changes), current=jobs.job_fields(job))
        jobs.update_job(session, job, changes)
        [result] = job_views(session, [job], principal, language=language)
    index_now(runtime)
    return result


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(job_id: PathId, principal: JobsWrite, runtime: RuntimeDep) -> Response:
    with runtime.db.session() as session:
        job = jobs.get_owned_job(session, job_id, tenant_id=principal.tenant_id)
        orphans = jobs.delete_job(session, runtime.settings.files_dir, job)
    remove_files(orphans)
    index_now(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
