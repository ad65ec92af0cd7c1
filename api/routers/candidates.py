"""/v1/candidates: profiles private to the tenant that holds them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from api.deps import CandidatesRead, CandidatesWrite, RuntimeDep, SessionDep
from api.runtime import index_now, upsert_and_index
from api.schemas import CandidateCreate, CandidatePage, CandidateRead, CandidateUpdate, PathId
from api.views import candidate_view, export_view
from core.errors import InvalidInput
from ingestion.resume_text import with_resume_extraction
from representation.profiles import CandidateProfile
from store import candidates, privacy
from store.files import remove_files

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])
Purpose = Annotated[str | None, Query(max_length=200, description="why (audit-logged)")]


@router.post("", response_model=CandidateRead, status_code=status.HTTP_201_CREATED)
def create_or_update_candidate(
    body: CandidateCreate, principal: CandidatesWrite, runtime: RuntimeDep, response: Response
) -> CandidateRead:
    """Create a profile; a known ``external_id`` updates it (200). ``resume_text`` alone is
    enough: skills, years, education level, city and contacts are extracted from it.
    A partner app acting for a job seeker must send the person's ``consent``."""
    if principal.role == "partner" and body.consent is None:
        raise InvalidInput("a partner app must send the person's recorded consent "
                           "(purpose, granted_at, text_version)", field="consent")  # fmt: skip

    def upsert(session: Session) -> tuple[CandidateRead, bool]:
        candidate, created = candidates.upsert_candidate(
            session,
            tenant_id=principal.tenant_id,
            fields=with_resume_extraction(body.model_dump(exclude={"consent"})),
        )
        if body.consent is not None:
            privacy.record_consent(
                session, tenant_id=principal.tenant_id, candidate_id=candidate.id,
                purpose=body.consent.purpose, granted_at=body.consent.granted_at,
                text_version=body.consent.text_version, key_id=principal.key_id,
            )  # fmt: skip
        return candidate_view(candidate, principal), created

    return upsert_and_index(runtime, response, upsert)


@router.get("", response_model=CandidatePage)
def list_candidates(
    principal: CandidatesRead,
    session: SessionDep,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
) -> CandidatePage:
    items, total = candidates.list_candidates(
        session, tenant_id=principal.tenant_id, offset=(page - 1) * page_size, limit=page_size
    )
    return CandidatePage(
        items=[candidate_view(c, principal) for c in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/{candidate_id}", response_model=CandidateRead)
def get_candidate(
    candidate_id: PathId, principal: CandidatesRead, session: SessionDep, purpose: Purpose = None
) -> CandidateRead:
    """A full profile; every read is audit-logged with the ``purpose`` given."""
    candidate = candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
    privacy.audit(session, tenant_id=principal.tenant_id, key_id=principal.key_id, action="read",
                  candidate_id=candidate.id, purpose=purpose)  # fmt: skip
    return candidate_view(candidate, principal)


@router.get("/{candidate_id}/export")
def export_candidate(
    candidate_id: PathId,
    principal: CandidatesRead,
    session: SessionDep,
    purpose: Annotated[str, Query(min_length=1, max_length=200, description="why (audited)")],
) -> dict[str, Any]:
    """Everything stored about the person (PIPL art. 45): profile with contacts, sources,
    uploaded files and their text, consents, feedback on them, and the audit trail. Without
    ``candidates:contact`` every contact in it is masked (profile, file texts, and the rest)."""
    candidate = candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
    privacy.audit(session, tenant_id=principal.tenant_id, key_id=principal.key_id, action="export",
                  candidate_id=candidate.id, purpose=purpose)  # fmt: skip
    session.flush()
    export = {
        "candidate": CandidateRead.model_validate(candidate).model_dump(mode="json"),
        **privacy.export_candidate(session, candidate),
        "audit": [
            {"at": e.at.isoformat(), "action": e.action, "key_id": e.key_id, "purpose": e.purpose}
            for e in privacy.audit_trail(session, tenant_id=principal.tenant_id,
                                         candidate_id=candidate.id)
        ],
    }  # fmt: skip
    return export_view(export, principal)


@router.patch("/{candidate_id}", response_model=CandidateRead)
def update_candidate(
    candidate_id: PathId, body: CandidateUpdate, principal: CandidatesWrite, runtime: RuntimeDep
) -> CandidateRead:
    with runtime.db.session() as session:
        candidate = candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
        changes = with_resume_extraction(body.model_dump(exclude_unset=True))
        result = candidate_view(candidates.update_candidate(session, candidate, changes), principal)
    index_now(runtime)
    return result


@router.delete("/{candidate_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_candidate(
    candidate_id: PathId, principal: CandidatesWrite, runtime: RuntimeDep
) -> Response:
    """Erase the person: profile, sources, files, consents, feedback, cached embeddings and
    index entries; an audit record (ids only) remains."""
    with runtime.db.session() as session:
        candidate = candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
        orphans = privacy.erase_candidate(
            session, runtime.settings.files_dir, candidate, key_id=principal.key_id,
            embedded_texts=CandidateProfile.from_row(candidate).embedded_texts(),
        )  # fmt: skip
    remove_files(orphans)
    # This process's copy of the profile goes now, not when it ages out of the cache.
    runtime.matching.candidate_profiles.forget(candidate_id)
    runtime.db.reclaim_deleted_space()
    index_now(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
