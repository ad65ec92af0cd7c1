"""Two-way matching: retrieve with the hybrid index, then score and explain each pair."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, load_only

from core.domain import EntityKind
from core.errors import IndexUnavailable
from core.settings import MatchSettings
from matching.ranker import CANDIDATE_TO_JOBS, JOB_TO_CANDIDATES, RankerModel, default_model
from matching.scoring import MatchScore, score_match
from representation.profiles import (
    CANDIDATE_PROFILE_COLUMNS,
    JOB_PROFILE_COLUMNS,
    CandidateProfile,
    JobProfile,
)
from search_index.hybrid import HybridSearch
from search_index.protocol import DocumentVectors, SearchHit, SearchQuery
from store.jobs import visible_to
from store.models import Candidate, Job
from store.records import rows_by_ids

Row = TypeVar("Row", Job, Candidate)
CandidateLoader = Callable[[list[int]], dict[int, Candidate]]
JobLoader = Callable[[list[int]], dict[int, Job]]
Vectors = tuple[np.ndarray, np.ndarray]  # (content, title)


Profile = TypeVar("Profile", JobProfile, CandidateProfile)


class _ProfileCache(Generic[Row, Profile]):
    """Profiles reused while their row is unchanged: one per row id, kept with the row's
    ``updated_at`` (every write of the row moves it), so the next read after an edit builds
    it anew; an erased row is never read again (``forget`` drops it at once). Bounded, least
    recently used first out; per process. One per database (the runtime holds them): ids
    and update times of two databases can coincide."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._profiles: OrderedDict[int, tuple[datetime, Profile]] = OrderedDict()
        self._lock = threading.Lock()

    def _build(self, row: Row) -> Profile:
        raise NotImplementedError

    def profile(self, row: Row) -> Profile:
        """The row's profile, built once per version of the row."""
        version = row.updated_at
        with self._lock:
            cached = self._profiles.get(row.id)
            if cached is not None and cached[0] == version:
                self._profiles.move_to_end(row.id)
                return cached[1]
        profile = self._build(row)
        with self._lock:
            self._profiles[row.id] = (version, profile)
            self._profiles.move_to_end(row.id)
            if len(self._profiles) > self._size:
                self._profiles.popitem(last=False)
        return profile

    def __contains__(self, entity_id: object) -> bool:
        with self._lock:
            return entity_id in self._profiles

    def forget(self, entity_id: int) -> None:
        """Drop the row's profile (an erased person's is not kept until it ages out)."""
        with self._lock:
            self._profiles.pop(entity_id, None)


class JobProfileCache(_ProfileCache[Job, JobProfile]):
    """Postings' profiles as scoring reads them (no description): candidate → postings
    matching scores the same popular postings over and over."""

    def _build(self, row: Job) -> JobProfile:
        return JobProfile.from_row(row, with_texts=False)


class CandidateProfileCache(_ProfileCache[Candidate, CandidateProfile]):
    """Candidates' profiles as scoring reads them (no texts): posting → candidates matching
    would otherwise clean every retrieved candidate's titles of protected attributes again
    on every request."""

    def _build(self, row: Candidate) -> CandidateProfile:
        return CandidateProfile.from_row(row, with_texts=False)


def scoring_candidates(session: Session, ids: list[int]) -> dict[int, Candidate]:
    """Candidates by id with only the columns scoring reads, in one query per 500; any
    other column raises rather than loading row by row (load the shown ones in full)."""
    options = [load_only(*_attributes(Candidate, CANDIDATE_PROFILE_COLUMNS), raiseload=True),
               lazyload(Candidate.sources)]  # fmt: skip
    return rows_by_ids(session, Candidate, ids, options=options)


def scoring_jobs(
    session: Session, ids: list[int], *, viewer_tenant: str, fair_id: str | None = None
) -> dict[int, Job]:
    """Of these postings, the ones the viewer may see, with only the columns scoring reads
    (as ``scoring_candidates``)."""
    rule = visible_to(viewer_tenant, fair_id=fair_id)
    only = load_only(*_attributes(Job, JOB_PROFILE_COLUMNS), raiseload=True)
    found: dict[int, Job] = {}
    for start in range(0, len(ids), 500):
        query = select(Job).where(Job.id.in_(ids[start : start + 500]), rule).options(only)
        for row in session.scalars(query):
            found[row.id] = row
    return found


def _attributes(model: type[Job] | type[Candidate], columns: tuple[str, ...]) -> list[Any]:
    return [getattr(model, column) for column in columns]


@dataclass(frozen=True)
class MatchSources:
    """What matching reads besides the database rows it is given: each kind's search
    pipeline (retrieval) and vector source (scoring), the settings, and the caches of
    postings' and candidates' profiles. The runtime builds one; tools and tests may build their own."""

    search: Mapping[EntityKind, HybridSearch]
    vectors: Mapping[EntityKind, DocumentVectors]
    settings: MatchSettings
    job_profiles: JobProfileCache = field(default_factory=JobProfileCache)
    candidate_profiles: CandidateProfileCache = field(default_factory=CandidateProfileCache)

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
            profile, sources.candidate_profiles.profile(c), job_vectors, vectors
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
    profile = sources.candidate_profiles.profile(candidate)
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
    profile = sources.candidate_profiles.profile(candidate)
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
