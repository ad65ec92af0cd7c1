"""Two-way matching: retrieve with the hybrid index, then score and explain each pair."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.domain import EntityKind
from core.errors import IndexUnavailable
from core.settings import MatchSettings
from matching.profiles import CandidateProfile, JobProfile
from matching.scoring import MatchScore, score_match
from search_index.protocol import SearchIndex, SearchQuery
from store.models import Candidate, Job

CandidateLoader = Callable[[list[int]], dict[int, Candidate]]
JobLoader = Callable[[list[int]], dict[int, Job]]


def _retrieval_text(title: str, skills: tuple[str, ...] | list[str]) -> str:
    return " ".join([title, *skills])


def _vectors(index: SearchIndex, entity_id: int, kind: EntityKind) -> tuple[np.ndarray, np.ndarray]:
    stored = index.vectors([entity_id]).get(entity_id)
    if stored is None:
        raise IndexUnavailable(f"{kind.value} {entity_id} is not indexed yet; retry shortly")
    return stored.vector, stored.title_vector


def rank_candidates_for_job(
    job: Job,
    *,
    tenant_id: str,
    job_index: SearchIndex,
    candidate_index: SearchIndex,
    load_candidates: CandidateLoader,
    settings: MatchSettings,
    limit: int,
) -> list[tuple[Candidate, MatchScore]]:
    """The tenant's candidates best suited to ``job``, best first."""
    profile = JobProfile.from_row(job)
    job_vectors = _vectors(job_index, job.id, EntityKind.JOB)
    retrieved = candidate_index.search(
        SearchQuery(
            viewer_tenant=tenant_id,
            text=_retrieval_text(
                job.title, list(job.required_skills or []) + list(job.preferred_skills or [])
            ),
            vector=job_vectors[0],
            limit=max(settings.retrieval_depth, limit),
        )
    )
    ids = [hit.id for hit in retrieved.hits]
    rows = load_candidates(ids)
    stored = candidate_index.vectors(ids)
    scored = []
    for candidate_id in ids:
        row = rows.get(candidate_id)
        vectors = stored.get(candidate_id)
        if row is None or vectors is None or row.tenant_id != tenant_id:
            continue  # deleted since retrieval, or not yet re-indexed
        match = score_match(
            profile,
            CandidateProfile.from_row(row),
            job_vectors=job_vectors,
            candidate_vectors=(vectors.vector, vectors.title_vector),
            hard_mismatch_factor=settings.hard_mismatch_factor,
        )
        scored.append((row, match))
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].id))
    return scored[:limit]


def rank_jobs_for_candidate(
    candidate: Candidate,
    *,
    job_index: SearchIndex,
    candidate_index: SearchIndex,
    load_jobs: JobLoader,
    settings: MatchSettings,
    limit: int,
) -> list[tuple[Job, MatchScore]]:
    """Postings (public, or the candidate's tenant's own) best suited to ``candidate``."""
    profile = CandidateProfile.from_row(candidate)
    candidate_vectors = _vectors(candidate_index, candidate.id, EntityKind.CANDIDATE)
    retrieved = job_index.search(
        SearchQuery(
            viewer_tenant=candidate.tenant_id,
            text=_retrieval_text(" ".join(profile.titles), list(candidate.skills or [])),
            vector=candidate_vectors[0],
            limit=max(settings.retrieval_depth, limit),
        )
    )
    ids = [hit.id for hit in retrieved.hits]
    rows = load_jobs(ids)
    stored = job_index.vectors(ids)
    scored = []
    for job_id in ids:
        row = rows.get(job_id)
        vectors = stored.get(job_id)
        if row is None or vectors is None or (row.private and row.tenant_id != candidate.tenant_id):
            continue
        match = score_match(
            JobProfile.from_row(row),
            profile,
            job_vectors=(vectors.vector, vectors.title_vector),
            candidate_vectors=candidate_vectors,
            hard_mismatch_factor=settings.hard_mismatch_factor,
        )
        scored.append((row, match))
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].id))
    return scored[:limit]
