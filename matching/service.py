"""Two-way matching: retrieve with the hybrid index, then score and explain each pair."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from core.domain import EntityKind
from core.errors import IndexUnavailable
from core.settings import MatchSettings
from matching.ranker import CANDIDATE_TO_JOBS, JOB_TO_CANDIDATES, RankerModel, default_model
from matching.scoring import MatchScore, score_match
from representation.profiles import CandidateProfile, JobProfile
from search_index.hybrid import HybridSearch
from search_index.protocol import SearchHit, SearchIndex, SearchQuery, StoredFields
from store.models import Candidate, Job

Row = TypeVar("Row", Job, Candidate)
CandidateLoader = Callable[[list[int]], dict[int, Candidate]]
JobLoader = Callable[[list[int]], dict[int, Job]]
Vectors = tuple[np.ndarray, np.ndarray]


def _retrieval_text(title: str, skills: tuple[str, ...] | list[str]) -> str:
    return " ".join([title, *skills])


def _vectors(index: SearchIndex, entity_id: int, kind: EntityKind) -> Vectors:
    stored = index.stored_fields([entity_id]).get(entity_id)
    if stored is None:
        raise IndexUnavailable(f"{kind.value} {entity_id} is not indexed yet; retry shortly")
    return stored.vector, stored.title_vector


class JobProfileCache:
    """Postings' profiles, reused while a posting is unchanged: candidate → postings matching
    scores the same popular postings over and over. One per database (the runtime holds
    it): posting ids and update times of two databases can coincide."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._profiles: OrderedDict[tuple[int, float], JobProfile] = OrderedDict()
        self._lock = threading.Lock()

    def profile(self, job: Job) -> JobProfile:
        """The posting's profile, built once per version of the posting."""
        key = (job.id, job.updated_at.timestamp())
        with self._lock:
            profile = self._profiles.get(key)
            if profile is not None:
                self._profiles.move_to_end(key)
                return profile
        profile = JobProfile.from_row(job)
        with self._lock:
            self._profiles[key] = profile
            if len(self._profiles) > self._size:
                self._profiles.popitem(last=False)
        return profile


def keyword_relevance(hits: list[SearchHit]) -> dict[int, float] | None:
    """Each hit's BM25 score relative to the best one (0 for hits keyword retrieval missed);
    None when keyword retrieval found nothing, so the factor abstains."""
    best = max((h.keyword_score or 0.0 for h in hits), default=0.0)
    if best <= 0:
        return None
    return {h.id: (h.keyword_score or 0.0) / best for h in hits}


def _score_retrieved(
    hits: list[SearchHit],
    rows: dict[int, Row],
    stored: StoredFields,
    *,
    visible: Callable[[Row], bool],
    score: Callable[[Row, Vectors, float | None], MatchScore],
    limit: int,
) -> list[tuple[Row, MatchScore]]:
    """Score every retrieved record that still exists, is indexed and is visible; best first."""
    keyword = keyword_relevance(hits)
    scored = []
    for hit in hits:
        row = rows.get(hit.id)
        vectors = stored.get(hit.id)
        if row is None or vectors is None or not visible(row):
            continue  # deleted since retrieval, not yet re-indexed, or not the caller's
        relevance = keyword.get(hit.id, 0.0) if keyword is not None else None
        scored.append((row, score(row, (vectors.vector, vectors.title_vector), relevance)))
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].id))
    return scored[:limit]


def _retrieve(index: SearchIndex, viewer_tenant: str, text: str, vector: np.ndarray,
              depth: int) -> list[SearchHit]:  # fmt: skip
    query = SearchQuery(viewer_tenant=viewer_tenant, text=text, vector=vector, limit=depth)
    return HybridSearch(index).search(query).hits


def _candidates_for(job: Job, index: SearchIndex, tenant_id: str, vector: np.ndarray,
                    depth: int) -> list[SearchHit]:  # fmt: skip
    """Retrieval of a tenant's candidates for a posting: its title and skills, its vector."""
    skills = list(job.required_skills or []) + list(job.preferred_skills or [])
    return _retrieve(index, tenant_id, _retrieval_text(job.title, skills), vector, depth)


def _postings_for(candidate: Candidate, profile: CandidateProfile, index: SearchIndex,
                  vector: np.ndarray, depth: int) -> list[SearchHit]:  # fmt: skip
    """Retrieval of postings for a candidate: its titles and skills, its vector."""
    text = _retrieval_text(" ".join(profile.titles), list(candidate.skills or []))
    return _retrieve(index, candidate.tenant_id, text, vector, depth)


def rank_candidates_for_job(
    job: Job,
    *,
    tenant_id: str,
    job_index: SearchIndex,
    candidate_index: SearchIndex,
    load_candidates: CandidateLoader,
    settings: MatchSettings,
    limit: int,
    model: RankerModel | None = None,
) -> list[tuple[Candidate, MatchScore]]:
    """The tenant's candidates best suited to ``job``, best first."""
    model = (model or default_model()).for_direction(JOB_TO_CANDIDATES)
    profile = JobProfile.from_row(job)
    job_vectors = _vectors(job_index, job.id, EntityKind.JOB)
    hits = _candidates_for(job, candidate_index, tenant_id, job_vectors[0],
                           max(settings.retrieval_depth, limit))  # fmt: skip
    ids = [hit.id for hit in hits]
    return _score_retrieved(
        hits,
        load_candidates(ids),
        candidate_index.stored_fields(ids),
        visible=lambda c: c.tenant_id == tenant_id,
        score=lambda c, vectors, keyword: score_match(
            profile,
            CandidateProfile.from_row(c, with_texts=False),
            job_vectors=job_vectors,
            candidate_vectors=vectors,
            model=model,
            keyword=keyword,
        ),  # fmt: skip
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
    model: RankerModel | None = None,
    job_profiles: JobProfileCache | None = None,
) -> list[tuple[Job, MatchScore]]:
    """Postings (public, or the candidate's tenant's own) best suited to ``candidate``;
    ``job_profiles`` (the runtime's) saves rebuilding the profiles of unchanged postings."""
    job_profile = job_profiles.profile if job_profiles is not None else JobProfile.from_row
    model = (model or default_model()).for_direction(CANDIDATE_TO_JOBS)
    profile = CandidateProfile.from_row(candidate, with_texts=False)
    candidate_vectors = _vectors(candidate_index, candidate.id, EntityKind.CANDIDATE)
    hits = _postings_for(candidate, profile, job_index, candidate_vectors[0],
                         max(settings.job_retrieval_depth, limit))  # fmt: skip
    ids = [hit.id for hit in hits]
    return _score_retrieved(
        hits,
        load_jobs(ids),
        job_index.stored_fields(ids),
        visible=lambda j: not j.private or j.tenant_id == candidate.tenant_id,
        score=lambda j, vectors, keyword: score_match(
            job_profile(j),
            profile,
            job_vectors=vectors,
            candidate_vectors=candidate_vectors,
            model=model,
            keyword=keyword,
        ),  # fmt: skip
        limit=limit,
    )


def pair_features(
    job: Job,
    candidate: Candidate,
    *,
    actor: str,
    job_index: SearchIndex,
    candidate_index: SearchIndex,
    settings: MatchSettings,
) -> MatchScore:
    """The pair scored as the actor's match list scored it (a recruiter's list of candidates
    for the posting, a job seeker's list of postings): what feedback is logged with, so that
    training sees the same evidence, keyword relevance included, that ranking saw."""
    job_vectors = _vectors(job_index, job.id, EntityKind.JOB)
    candidate_vectors = _vectors(candidate_index, candidate.id, EntityKind.CANDIDATE)
    profile = CandidateProfile.from_row(candidate, with_texts=False)
    if actor == "recruiter":
        hits = _candidates_for(job, candidate_index, candidate.tenant_id, job_vectors[0],
                               settings.retrieval_depth)  # fmt: skip
    else:
        hits = _postings_for(candidate, profile, job_index, candidate_vectors[0],
                             settings.job_retrieval_depth)  # fmt: skip
    keyword = keyword_relevance(hits)
    direction = JOB_TO_CANDIDATES if actor == "recruiter" else CANDIDATE_TO_JOBS
    return score_match(
        JobProfile.from_row(job), profile,
        job_vectors=job_vectors,
        candidate_vectors=candidate_vectors, model=default_model().for_direction(direction),
        keyword=keyword.get(job.id if actor == "seeker" else candidate.id, 0.0) if keyword else None,
    )  # fmt: skip
