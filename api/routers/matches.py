"""Two-way matching: candidates for a posting, postings for a candidate, each with its
score, factor breakdown, skill evidence and reasons in the caller's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query

from api.deps import MatchCandidates, MatchJobs, RuntimeDep
from api.schemas import (
    CandidateMatch,
    CandidateMatches,
    FactorRead,
    JobMatch,
    JobMatches,
    PathId,
    SkillEvidenceRead,
)
from api.service_counts import count_seeker_service
from api.views import candidate_view, job_views
from matching.explain import preferred_language, reasons, skill_evidence
from matching.scoring import MatchScore
from matching.service import (
    MatchSources,
    rank_candidates_for_job,
    rank_jobs_for_candidate,
    scoring_candidates,
    scoring_jobs,
)
from representation.fairness import blind_text, person_names
from store.candidates import candidates_by_ids, get_candidate
from store.jobs import get_visible_job, jobs_by_ids
from store.models import Candidate, Job
from store.pii import redact_text

router = APIRouter(tags=["matching"])

AcceptLanguage = Annotated[str | None, Header(description="zh or en: the language of `reasons`")]
Blind = Annotated[
    bool,
    Query(description="hide name, contacts, age, gender, photo and other protected attributes"),
]


def _match_fields(
    job: Job, candidate: Candidate, match: MatchScore, language: str, *, blind: bool,
    sources: MatchSources,
) -> dict[str, Any]:  # fmt: skip
    evidence = skill_evidence(candidate, match.matched_skill_ids, language)
    # Evidence quotes the candidate's texts: as a result list shows them, contacts masked
    # (blind: removed, with the name however the résumé writes it).
    names = person_names(candidate.name, candidate.resume_text, candidate.summary) if blind else ()

    def shown(text: str) -> str:
        return blind_text(text, names) if blind else redact_text(text) or ""

    return {
        "score": round(match.score, 4),
        "breakdown": {name: FactorRead(**entry) for name, entry in match.breakdown().items()},  # type: ignore[arg-type]
        "hard_mismatches": [name for name, f in match.factors.items() if f.hard_mismatch],
        "matched_skills": match.matched_skills,
        "missing_skills": match.missing_skills,
        "missing_required_skills": match.missing_skills,
        "missing_preferred_skills": match.missing_preferred_skills,
        "skill_evidence": [
            SkillEvidenceRead(
                skill=e.skill,
                source=e.source,
                text=shown(e.text),
            )
            for e in evidence
        ],
        # The profiles ranking just scored (cached), not built again.
        "reasons": reasons(
            sources.job_profiles.profile(job),
            sources.candidate_profiles.profile(candidate),
            match,
            language,
        ),
    }


@dataclass(frozen=True)
class MatchOptions:
    """How a match list is asked for: its length, blind or not, the language of reasons."""

    limit: int
    blind: bool
    language: str


def match_options(
    limit: int = Query(20, ge=1, le=100),
    blind: Blind = False,
    accept_language: AcceptLanguage = None,
) -> MatchOptions:
    return MatchOptions(limit=limit, blind=blind, language=preferred_language(accept_language))


Options = Annotated[MatchOptions, Depends(match_options)]


@router.get("/v1/jobs/{job_id}/matches", response_model=CandidateMatches)
def candidates_for_job(
    job_id: PathId, principal: MatchCandidates, runtime: RuntimeDep, options: Options
) -> CandidateMatches:
    """The tenant's candidates ranked for a posting it can see."""
    limit, blind, language = options.limit, options.blind, options.language
    model = runtime.ranker_for(principal.tenant_id)
    with runtime.db.session() as session:
        job = get_visible_job(
            session, job_id, viewer_tenant=principal.tenant_id, fair_id=principal.fair_id
        )
        ranked = rank_candidates_for_job(
            job,
            tenant_id=principal.tenant_id,
            sources=runtime.matching,
            load_candidates=lambda ids: scoring_candidates(session, ids),
            limit=limit,
            model=model,
        )
        # The shown candidates in full (encrypted fields, sources) in one query, not one each.
        candidates_by_ids(session, [c.id for c, _ in ranked], full=True)
        matches = []
        for c, m in ranked:
            candidate = candidate_view(c, principal, in_results=True, blind=blind)
            fields = _match_fields(job, c, m, language, blind=blind, sources=runtime.matching)
            matches.append(CandidateMatch(id=c.id, candidate=candidate, **fields))
    return CandidateMatches(
        job_id=job_id, model_version=model.version, blind=blind, matches=matches
    )


@router.get("/v1/candidates/{candidate_id}/matches", response_model=JobMatches)
def jobs_for_candidate(
    candidate_id: PathId, principal: MatchJobs, runtime: RuntimeDep, options: Options
) -> JobMatches:
    """Postings ranked for one of the tenant's candidates."""
    limit, blind, language = options.limit, options.blind, options.language
    model = runtime.ranker_for(principal.tenant_id)
    with runtime.db.session() as session:
        candidate = get_candidate(session, candidate_id, tenant_id=principal.tenant_id)
        ranked = rank_jobs_for_candidate(
            candidate,
            sources=runtime.matching,
            load_jobs=lambda ids: scoring_jobs(
                session, ids, viewer_tenant=principal.tenant_id, fair_id=principal.fair_id
            ),
            limit=limit,
            model=model,
        )
        # The shown postings in full (scoring loaded only its columns) in one query.
        jobs_by_ids(session, [j.id for j, _ in ranked])
        views = job_views(session, [j for j, _ in ranked], principal, language=language)
        count_seeker_service(session, principal, "recommendation")
        matches = [
            JobMatch(
                id=j.id,
                job=view,
                **_match_fields(j, candidate, m, language, blind=blind, sources=runtime.matching),
            )
            for (j, m), view in zip(ranked, views, strict=True)
        ]
    return JobMatches(
        candidate_id=candidate_id, model_version=model.version, blind=blind, matches=matches
    )
