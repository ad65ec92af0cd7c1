"""Two-way matching: retrieve with the hybrid index, then score and explain each pair."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from core.domain import EntityKind
from core.errors import IndexUnavailable
from core.settings import MatchSettings
from matching.ranker import CANDIDATE_TO_JOBS, JOB_TO_CANDIDATES, RankerModel, default_model
from matching.scoring import MatchScore, score_match
from representation.profiles import CandidateProfile, JobProfile
from search_index.hybrid import HybridSearch
from search_index.protocol import DocumentVectors, SearchHit, SearchQuery
from store.models import Candidate, Job

Row = TypeVar("Row", Job, Candidate)
CandidateLoader = Callable[[list[int]], dict[int, Candidate]]
JobLoader = Callable[[list[int]], dict[int, Job]]
Vectors = tuple[np.ndarray, np.ndarray]  # (content, title)


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


@dataclass(frozen=True)
class MatchSources:
    """What matching reads besides the database rows it is given: each kind's search
    pipeline (retrieval) and vector source (scoring), the settings, and the cache of
    postings' profiles. The runtime builds one; tools and tests may build their own."""

    search: Mapping[EntityKind, HybridSearch]
    vectors: Mapping[EntityKind, DocumentVectors]
    settings: MatchSettings
    job_profiles: JobProfileCache = field(default_factory=JobProfileCache)

    def vectors_of(self, kind: EntityKind, entity_id: int) -> Vectors:
        """The probe's own vectors; IndexUnavailable until it is indexed."""
        stored = self.vectors[kind].stored_fields([entity_id]).get(entity_id)
        if stored is None:
            raise IndexUnavailable(f"{kind.value} {entity_id} is not indexed yet; retry shortly")
        return stored.vector, stored.title_vector

    def retrieve(self, kind: EntityKind, viewer_tenant: str, text: str, vector: np.ndarray,
                 depth: int) -> list[SearchHit]:  # fmt: skip
        """Hybrid retrieval of ``kind`` documents (RRF order, duplicates kept apart)."""
        query = SearchQuery(viewer_tenant=viewer_tenant, text=text, vector=vector, limit=depth)
        return self.search[kind].search(query).hits


def keyword_relevance(hits: list[SearchHit]) -> dict[int, float] | None:
    """Each hit's BM25 score relative to the best one (0 for hits keyword retrieval missed);
    None when keyword retrieval found nothing, so the factor abstains."""
    best = max((h.keyword_score or 0.0 for h in hits), default=0.0)
    if best <= 0:
        return None
    return {h.id: (h.keyword_score or 0.0) / best for h in hits}


def _retrieval_text(title: str, skills: tuple[str, ...] | list[str]) -> str:
    return " ".join([title, *skills])


def _candidates_for(sources: MatchSources, job: Job, tenant_id: str, vector: np.ndarray,
                    depth: int) -> list[SearchHit]:  # fmt: skip
    """Retrieval of a tenant's candidates for a posting: its title and skills, its vector."""
    skills = list(job.required_skills or []) + list(job.preferred_skills or [])
    text = _retrieval_text(job.title, skills)
    return sources.retrieve(EntityKind.CANDIDATE, tenant_id, text, vector, depth)


def _postings_for(sources: MatchSources, candidate: Candidate, profile: CandidateProfile,
                  vector: np.ndarray, depth: int) -> list[SearchHit]:  # fmt: skip
    """Retrieval of postings for a candidate: its titles and skills, its vector."""
    text = _retrieval_text(" ".join(profile.titles), list(candidate.skills or []))
    return sources.retrieve(EntityKind.JOB, candidate.tenant_id, text, vector, depth)


# One side of a pair as scoring takes it: (job profile, candidate profile, job vectors,
# candidate vectors) from a retrieved row and its vectors.
PairOf = Callable[[Row, Vectors], tuple[JobProfile, CandidateProfile, Vectors, Vectors]]


def _rank_retrieved(
    hits: list[SearchHit],
    rows: dict[int, Row],
    vectors: DocumentVectors,
    *,
    visible: Callable[[Row], bool],
    pair_of: PairOf[Row],
    model: RankerModel,
    limit: int,
) -> list[tuple[Row, MatchScore]]:
    """Score every retrieved record that still exists, is indexed and is visible; best first."""
    keyword = keyword_relevance(hits)
    stored = vectors.stored_fields([hit.id for hit in hits])
    scored = []
    for hit in hits:
        row = rows.get(hit.id)
        fields = stored.get(hit.id)
        if row is None or fields is None or not visible(row):
            continue  # deleted since retrieval, not yet re-indexed, or not the caller's
        job, candidate, job_vectors, candidate_vectors = pair_of(
            row, (fields.vector, fields.title_vector)
        )
        match = score_match(
            job, candidate, job_vectors=job_vectors, candidate_vectors=candidate_vectors,
            model=model, keyword=keyword.get(hit.id, 0.0) if keyword is not None else None,
        )  # fmt: skip
        scored.append((row, match))
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].id))
    return scored[:limit]


def rank_candidates_for_job(
    job: Job,
    *,
    tenant_id: str,
    sources: MatchSources,
    load_candidates: CandidateLoader,
    limit: int,
    model: RankerModel | None = None,
) -> list[tuple[Candidate, MatchScore]]:
    """The tenant's candidates best suited to ``job``, best first."""
    profile = sources.job_profiles.profile(job)
    job_vectors = sources.vectors_of(EntityKind.JOB, job.id)
    depth = max(sources.settings.retrieval_depth, limit)
    hits = _candidates_for(sources, job, tenant_id, job_vectors[0], depth)
    return _rank_retrieved(
        hits, load_candidates([hit.id for hit in hits]), sources.vectors[EntityKind.CANDIDATE],
        visible=lambda c: c.tenant_id == tenant_id,
        pair_of=lambda c, vectors: (
            profile, CandidateProfile.from_row(c, with_texts=False), job_vectors, vectors
        ),
        model=(model or default_model()).for_direction(JOB_TO_CANDIDATES), limit=limit,
    )  # fmt: skip


def rank_jobs_for_candidate(
    candidate: Candidate,
    *,
    sources: MatchSources,
    load_jobs: JobLoader,
    limit: int,
    model: RankerModel | None = None,
) -> list[tuple[Job, MatchScore]]:
    """Postings (public, or the candidate's tenant's own) best suited to ``candidate``."""
    profile = CandidateProfile.from_row(candidate, with_texts=False)
    candidate_vectors = sources.vectors_of(EntityKind.CANDIDATE, candidate.id)
    depth = max(sources.settings.job_retrieval_depth, limit)
    hits = _postings_for(sources, candidate, profile, candidate_vectors[0], depth)
    return _rank_retrieved(
        hits, load_jobs([hit.id for hit in hits]), sources.vectors[EntityKind.JOB],
        visible=lambda j: not j.private or j.tenant_id == candidate.tenant_id,
        pair_of=lambda j, vectors: (
            sources.job_profiles.profile(j), profile, vectors, candidate_vectors
        ),
        model=(model or default_model()).for_direction(CANDIDATE_TO_JOBS), limit=limit,
    )  # fmt: skip


def pair_features(job: Job, candidate: Candidate, *, actor: str,
                  sources: MatchSources) -> MatchScore:  # fmt: skip
    """The pair scored as the actor's match list scored it (a recruiter's list of candidates
    for the posting, a job seeker's list of postings): what feedback is logged with, so that
    training sees the same evidence, keyword relevance included, that ranking saw."""
    job_vectors = sources.vectors_of(EntityKind.JOB, job.id)
    candidate_vectors = sources.vectors_of(EntityKind.CANDIDATE, candidate.id)
    profile = CandidateProfile.from_row(candidate, with_texts=False)
    if actor == "recruiter":
        hits = _candidates_for(sources, job, candidate.tenant_id, job_vectors[0],
                               sources.settings.retrieval_depth)  # fmt: skip
        direction, other = JOB_TO_CANDIDATES, candidate.id
    else:
        hits = _postings_for(sources, candidate, profile, candidate_vectors[0],
                             sources.settings.job_retrieval_depth)  # fmt: skip
        direction, other = CANDIDATE_TO_JOBS, job.id
    keyword = keyword_relevance(hits)
    return score_match(
        sources.job_profiles.profile(job), profile,
        job_vectors=job_vectors, candidate_vectors=candidate_vectors,
        model=default_model().for_direction(direction),
        keyword=keyword.get(other, 0.0) if keyword else None,
    )  # fmt: skip
