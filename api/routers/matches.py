"""Two-way matching: candidates for a posting, postings for a candidate."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, RuntimeDep
from api.schemas import (
    CandidateMatch,
    CandidateMatches,
    CandidateRead,
    FactorRead,
    JobMatch,
    JobMatches,
    JobRead,
)
from matching.scoring import MatchScore
from matching.service import rank_candidates_for_job, rank_jobs_for_candidate
from store.candidates import candidates_by_ids, get_candidate
from store.jobs import get_visible_job, jobs_by_ids

router = APIRouter(tags=["matching"])


def _match_fields(match: MatchScore) -> dict[str, object]:
    return {
        "score": match.score,
        "breakdown": {name: FactorRead(**entry) for name, entry in match.breakdown().items()},  # type: ignore[arg-type]
        "hard_mismatches": [name for name, f in match.factors.items() if f.hard_mismatch],
        "matched_skills": match.matched_skills,
        "missing_skills": match.missing_skills,
        "missing_preferred_skills": match.missing_preferred_skills,
    }


@router.get("/v1/jobs/{job_id}/matches", response_model=CandidateMatches)
def candidates_for_job(
    job_id: int, principal: PrincipalDep, runtime: RuntimeDep, limit: int = Query(20, ge=1, le=100)
) -> CandidateMatches:
    """The tenant's candidates ranked for a posting it can see."""
    with runtime.db.session() as session:
        job = get_visible_job(session, job_id, viewer_tenant=principal.tenant_id)
        ranked = rank_candidates_for_job(
            job,
            tenant_id=principal.tenant_id,
            job_index=runtime.jobs_index,
            candidate_index=runtime.candidates_index,
            load_candidates=lambda ids: candidates_by_ids(session, ids),
            settings=runtime.settings.match,
            limit=limit,
        )
        matches = [
            CandidateMatch(id=c.id, candidate=CandidateRead.model_validate(c), **_match_fields(m))  # type: ignore[arg-type]
            for c, m in ranked
        ]
    return CandidateMatches(job_id=job_id, matches=matches)


@router.get("/v1/candidates/{candidate_id}/matches", response_model=JobMatches)
def jobs_for_candidate(
    candidate_id: int,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    limit: int = Query(20, ge=1, le=100),
) -> JobMatches:
    """Postings ranked for one of the tenant's candidates."""
    with runtime.db.session() as session:
        candidate = get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
        ranked = rank_jobs_for_candidate(
            candidate,
            job_index=runtime.jobs_index,
            candidate_index=runtime.candidates_index,
            load_jobs=lambda ids: jobs_by_ids(session, ids),
            settings=runtime.settings.match,
            limit=limit,
        )
        matches = [
            JobMatch(id=j.id, job=JobRead.model_validate(j), **_match_fields(m))  # type: ignore[arg-type]
            for j, m in ranked
        ]
    return JobMatches(candidate_id=candidate_id, matches=matches)
