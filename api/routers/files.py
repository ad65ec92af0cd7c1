"""File uploads (résumés and postings as PDF, DOCX, HTML, TXT, Markdown) and the originals."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import (
    CandidatesWrite,
    JobsRead,
    JobsWrite,
    RuntimeDep,
    refuse_browser_keys,
    refuse_partner_bulk,
    require,
)
from api.runtime import Runtime, index_now
from api.schemas import FileResultRead, FileResults, PathId
from core.domain import EntityKind
from core.errors import InvalidInput
from ingestion.intake import ingest_file
from store.candidates import get_candidate
from store.files import latest_file, read_content
from store.jobs import get_visible_job
from store.keys import Principal

router = APIRouter(tags=["files"])

Uploads = Annotated[
    list[UploadFile], File(description="one or more files in the form field 'files'")
]


async def _ingest(
    runtime: Runtime, kind: EntityKind, tenant_id: str, files: list[UploadFile]
) -> FileResults:
    settings = runtime.settings.uploads
    if len(files) > settings.max_files_per_request:
        raise InvalidInput(
            f"at most {settings.max_files_per_request} files per request", field="files"
        )
    limits = runtime.limits
    results = []
    for upload in files:
        # Read one byte past the limit: enough to know a file is too large, never more.
        content = await upload.read(settings.max_file_bytes + 1)
        result = await run_in_threadpool(
            ingest_file, runtime.db, runtime.settings.files_dir, kind=kind, tenant_id=tenant_id,
            filename=upload.filename or "upload", content=content, limits=limits,
        )  # fmt: skip
        results.append(FileResultRead(**asdict(result)))
    await run_in_threadpool(index_now, runtime)
    return FileResults(results=results)


@router.post("/v1/candidates/files", response_model=FileResults)
async def upload_candidate_files(
    files: Uploads, principal: CandidatesWrite, runtime: RuntimeDep
) -> FileResults:
    """Résumés in, one profile per file; each file's result in order, errors per file."""
    refuse_partner_bulk(principal)
    return await _ingest(runtime, EntityKind.CANDIDATE, principal.tenant_id, files)


@router.post("/v1/jobs/files", response_model=FileResults)
async def upload_job_files(
    files: Uploads, principal: JobsWrite, runtime: RuntimeDep
) -> FileResults:
    """Postings in, one per file."""
    return await _ingest(runtime, EntityKind.JOB, principal.tenant_id, files)


def _download(runtime: Runtime, entity: EntityKind, entity_id: int) -> Response:
    with runtime.db.session() as session:
        stored = latest_file(session, entity=entity, entity_id=entity_id)
    content = read_content(runtime.settings.files_dir, stored.sha256, key=runtime.db.data_key)
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return Response(
        content, media_type=stored.content_type, headers={"Content-Disposition": disposition}
    )


# An original file holds the contacts as they were written and cannot be masked as it is.
CandidatesContact = Annotated[Principal, Depends(require("candidates:read", "candidates:contact"))]


@router.get("/v1/candidates/{candidate_id}/file")
def candidate_file(
    candidate_id: PathId, principal: CandidatesContact, runtime: RuntimeDep
) -> Response:
    """The original résumé file behind a profile. It holds the person's contacts and cannot
    be masked as it is, so it needs ``candidates:contact`` (403 ``insufficient_scope``
    without); the export gives its text with contacts masked to keys without the scope."""
    with runtime.db.session() as session:
        get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
    return _download(runtime, EntityKind.CANDIDATE, candidate_id)


@router.get("/v1/jobs/{job_id}/file")
def job_file(job_id: PathId, principal: JobsRead, runtime: RuntimeDep) -> Response:
    refuse_browser_keys(principal)
    with runtime.db.session() as session:
        get_visible_job(session, job_id, viewer_tenant=principal.tenant_id)
    return _download(runtime, EntityKind.JOB, job_id)
