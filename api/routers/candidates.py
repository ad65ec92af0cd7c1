"""/v1/candidates: profiles private to the tenant that holds them."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response, status

from api.deps import PrincipalDep, RuntimeDep, SessionDep
from api.runtime import index_now
from api.schemas import CandidateCreate, CandidatePage, CandidateRead, CandidateUpdate
from store import candidates

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


@router.post("", response_model=CandidateRead, status_code=status.HTTP_201_CREATED)
def create_or_update_candidate(
    body: CandidateCreate, principal: PrincipalDep, runtime: RuntimeDep, response: Response
) -> CandidateRead:
    """Create a profile; a known ``external_id`` updates it (200). ``resume_text`` alone is
    enough: skills, years, education level, city and contacts are extracted from it."""
    with runtime.db.session() as session:
        candidate, created = candidates.upsert_candidate(
            session, tenant_id=principal.tenant_id, fields=body.model_dump()
        )
        result = CandidateRead.model_validate(candidate)
    index_now(runtime)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("", response_model=CandidatePage)
def list_candidates(
    principal: PrincipalDep,
    session: SessionDep,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(20, ge=1, le=100),
) -> CandidatePage:
    items, total = candidates.list_candidates(
        session, tenant_id=principal.tenant_id, offset=(page - 1) * page_size, limit=page_size
    )
    return CandidatePage(
        items=[CandidateRead.model_validate(c) for c in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/{candidate_id}", response_model=CandidateRead)
def get_candidate(candidate_id: int, principal: PrincipalDep, session: SessionDep) -> CandidateRead:
    return CandidateRead.model_validate(
        candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
    )


@router.patch("/{candidate_id}", response_model=CandidateRead)
def update_candidate(
    candidate_id: int, body: CandidateUpdate, principal: PrincipalDep, runtime: RuntimeDep
) -> CandidateRead:
    with runtime.db.session() as session:
        candidate = candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
        changes = body.model_dump(exclude_unset=True)
        result = CandidateRead.model_validate(
            candidates.update_candidate(session, candidate, changes)
        )
    index_now(runtime)
    return result


@router.delete("/{candidate_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_candidate(candidate_id: int, principal: PrincipalDep, runtime: RuntimeDep) -> Response:
    with runtime.db.session() as session:
        candidates.delete_candidate(
            session, candidates.get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
        )
    index_now(runtime)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
