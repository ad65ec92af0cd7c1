"""Two-way matching: retrieve with the hybrid index, then score and explain each pair."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from core.domain import EntityKind
from core.errors import IndexUnavailable
from core.settings import MatchSettings
from matching.profiles import CandidateProfile, JobProfile
from matching.scoring import MatchScore, score_match
from search_index.protocol import SearchIndex, SearchQuery, StoredVectors
from store.models import Candidate, Job

Row = TypeVar("Row", Job, Candidate)
CandidateLoader = Callable[[list[int]], dict[int, Candidate]]
JobLoader = Callable[[list[int]], dict[int, Job]]


def _retrieval_text(title: str, skills: tuple[str, ...] | list[str]) -> str:
    return " ".join([title, *skills])


def _vectors(index: SearchIndex, entity_id: int, kind: EntityKind) -> tuple[np.ndarray, np.ndarray]:
    stored = index.vectors([entity_id]).get(entity_id)
    if stored is None:
        raise IndexUnavailable(f"{kind.value} {entity_id} is not indexed yet; retry shortly")
    return stored.vector, stored.title_vector


def _score_retrieved(
    ids: list[int],
    rows: dict[int, Row],
    stored: dict[int, StoredVectors],
    *,
    visible: Callable[[Row], bool],
    score: Callable[[Row, tuple[np.ndarray, np.ndarray]], MatchScore],
    limit: int,
) -> list[tuple[Row, MatchScore]]:
    """Score every retrieved record that still exists, is indexed and is visible; best first."""
    scored = []
    for record_id in ids:
        row = rows.get(record_id)
        vectors = stored.get(record_id)
        if row is None or vectors is None or not visible(row):
            continue  # deleted since retrieval, not yet re-indexed, or not the caller's
        scored.append((row, score(row, (vectors.vector, vectors.title_vector))))
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].id))
    return scored[:limit]


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
    skills = list(job.required_skills or []) + list(job.preferred_skills or [])
    retrieved = candidate_index.search(
        SearchQuery(
            viewer_tenant=tenant_id,
            text=_retrieval_text(job.title, skills),
            vector=job_vectors[0],
            limit=max(settings.retrieval_depth, limit),
        )
    )
    ids = [hit.id for hit in retrieved.hits]
    return _score_retrieved(
        ids,
        load_candidates(ids),
        candidate_index.vectors(ids),
        visible=lambda c: c.tenant_id == tenant_id,
        score=lambda c, vectors: score_match(
            profile,
            CandidateProfile.from_row(c),
            job_vectors=job_vectors,
            candidate_vectors=vectors,
            hard_mismatch_factor=settings.hard_mismatch_factor,
        ),
        limit=limit,
    )


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
    return _score_retrieved(
        ids,
        load_jobs(ids),
        job_index.vectors(ids),
        visible=lambda j: not j.private or j.tenant_id == candidate.tenant_id,
        score=lambda j, vectors: score_match(
            JobProfile.from_row(j),
            profile,
            job_vectors=vectors,
            candidate_vectors=candidate_vectors,
            hard_mismatch_factor=settings.hard_mismatch_factor,
        ),
        limit=limit,
    )
