"""Bulk loads: ``POST /v1/jobs:bulk`` and ``/v1/candidates:bulk`` answer at once with an
ingest job; ``GET /v1/ingest-jobs/{id}`` follows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, cast

from fastapi import APIRouter, File, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import (
    CandidatesWrite,
    JobsWrite,
    PrincipalDep,
    RuntimeDep,
    refuse_browser_keys,
    refuse_partner_bulk,
)
from api.runtime import Runtime
from api.schemas import IngestJobRead
from core.domain import EntityKind
from core.errors import InvalidInput
from ingestion.bulk import create_ingest_job, get_ingest_job
from store.models import IngestJob

router = APIRouter(tags=["bulk"])

BulkFile = Annotated[UploadFile, File(description="the bulk file in the form field 'file'")]


def ingest_job_view(job: IngestJob) -> IngestJobRead:
    rate = eta = None
    if job.started_at is not None and job.position:
        end = job.finished_at or datetime.now(UTC)
        elapsed = max((end - job.started_at).total_seconds(), 1e-3)
        rate = round(job.position / elapsed, 1)
        eta = round((job.total - job.position) / rate, 1) if job.status == "running" else 0.0
    return IngestJobRead(
        id=job.id, status=cast(Literal["queued", "running", "done", "failed"], job.status), entity=job.entity, format=job.format, filename=job.filename,
        total=job.total, done=job.position, succeeded=job.succeeded, failed=job.failed,
        rate_per_s=rate, eta_s=eta, errors=list(job.errors or [])[:200], created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at,
    )  # fmt: skip


async def _submit(
    runtime: Runtime, entity: EntityKind, tenant_id: str, upload: UploadFile
) -> IngestJobRead:
    limit = runtime.settings.uploads.max_request_bytes
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(f"the file exceeds {limit} bytes", field="file")
    if not content:
        raise InvalidInput("the file is empty", field="file")
    job = await run_in_threadpool(
        create_ingest_job, runtime.db, runtime.settings.files_dir, tenant_id=tenant_id, entity=entity,
        filename=upload.filename or "upload", content=content, limits=runtime.limits,
    )  # fmt: skip
    runtime.ingest.submit(job.id)
    return ingest_job_view(job)


@router.post("/v1/jobs:bulk", response_model=IngestJobRead, status_code=status.HTTP_202_ACCEPTED)
async def bulk_jobs(principal: JobsWrite, runtime: RuntimeDep, file: BulkFile) -> IngestJobRead:
    """Postings as JSONL or CSV (one record a line/row; fields as in ``POST /v1/jobs``)."""
    return await _submit(runtime, EntityKind.JOB, principal.tenant_id, file)


@router.post(
    "/v1/candidates:bulk", response_model=IngestJobRead, status_code=status.HTTP_202_ACCEPTED
)
async def bulk_candidates(
    principal: CandidatesWrite, runtime: RuntimeDep, file: BulkFile
) -> IngestJobRead:
    """Candidates as JSONL, CSV, or a zip of résumé files."""
    refuse_partner_bulk(principal)
    return await _submit(runtime, EntityKind.CANDIDATE, principal.tenant_id, file)


@router.get("/v1/ingest-jobs/{job_id}", response_model=IngestJobRead)
def ingest_job(job_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> IngestJobRead:
    """Progress (done/failed/total, rate, ETA) and per-record errors with line numbers."""
    # A fair's browser key sits in a public page: it has no business with its tenant's loads.
    refuse_browser_keys(principal)
    return ingest_job_view(get_ingest_job(runtime.db, job_id, tenant_id=principal.tenant_id))
