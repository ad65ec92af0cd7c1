"""Scores one posting against one candidate, factor by factor, with an explanation.

Each factor scores 0–1 (or abstains when the posting asks nothing of it, or neither side
states it); a ranker model (``matching.ranker``: learned weights, a skills gate and a
calibration curve) turns them into the score, and a hard mismatch (wrong city for an
on-site job, salary ranges that do not overlap) multiplies the pair's evidence by a penalty
before calibration. Each factor's
``contribution`` is its share of the final score,
so the contributions add up to the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from matching.ranker import RankerModel, default_model
from representation.profiles import CandidateProfile, JobProfile
from search_index.tokenize import tokenize
from taxonomy.skills import skill_vocabulary

# Cosine similarities of the default encoder rescaled to 0–1: unrelated texts sit near
# the low end, paraphrases and translations near the high end (bench/results/encoders.md).
SEMANTIC_RANGE = (0.15, 0.75)
TITLE_RANGE = (0.20, 0.80)


@dataclass(frozen=True)
class Factor:
    score: float | None  # None: no evidence on one side, left out of the weighted mean
    detail: str
    hard_mismatch: bool = False


@dataclass
class MatchScore:
    score: float
    factors: dict[str, Factor]
    contributions: dict[str, float]
    weights: dict[str, float]
    penalty: float
    hard_mismatch_count: int
    model_version: str
    matched_skills: list[str] = field(default_factory=list)
    missing_skills: list[str] = field(default_factory=list)
    missing_preferred_skills: list[str] = field(default_factory=list)
    matched_skill_ids: list[str] = field(default_factory=list)  # canonical, for evidence

    def factor_scores(self) -> dict[str, float | None]:
        """Each factor's score (None where it abstains): what a ranker model reads."""
        return {name: f.score for name, f in self.factors.items()}

    def features(self) -> dict[str, Any]:
        """What feedback logging stores: the factor scores and the hard mismatch count."""
        return {"factors": self.factor_scores(), "hard_mismatches": self.hard_mismatch_count}

    def breakdown(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for name, factor in self.factors.items():
            entry: dict[str, object] = {
                "score": None if factor.score is None else round(factor.score, 4),
                "weight": self.weights[name],
                "contribution": round(self.contributions.get(name, 0.0), 4),
                "detail": factor.detail,
            }
            if factor.hard_mismatch:
                entry["hard_mismatch"] = True
            out[name] = entry
        return out


def _rescale(value: float, low: float, high: float) -> float:
    return float(min(1.0, max(0.0, (value - low) / (high - low))))


def semantic_factor(job_vector: np.ndarray, candidate_vector: np.ndarray) -> Factor:
    cosine = float(np.dot(job_vector, candidate_vector))
    return Factor(_rescale(cosine, *SEMANTIC_RANGE), f"cosine similarity {cosine:.2f}")


@lru_cache(maxsize=65536)
def title_tokens(title: str) -> frozenset[str]:
    """A title's segmented tokens (titles repeat across postings and requests: cached)."""
    return frozenset(tokenize(title))


def title_factor(
    job: JobProfile,
    candidate: CandidateProfile,
    job_title_vector: np.ndarray,
    cand_title_vector: np.ndarray,
) -> Factor:
    if not candidate.titles:
        # No title is no evidence of the occupation, not a neutral: left out, a profile with
        # nothing but a name or a city scored as well as its few stated facts.
        return Factor(0.0, "candidate states no titles")
    cosine = float(np.dot(job_title_vector, cand_title_vector))
    job_tokens = title_tokens(job.title)
    best_overlap = 0.0
    for title in candidate.titles:
        tokens = title_tokens(title)
        if job_tokens and tokens:
            best_overlap = max(best_overlap, len(job_tokens & tokens) / len(job_tokens | tokens))
    score = max(_rescale(cosine, *TITLE_RANGE), best_overlap)
    detail = f"'{job.title}' vs '{' / '.join(candidate.titles[:3])}'"
    if job.occupation_code and job.occupation_code == candidate.occupation_code:
        # Both titles coded to the same occupation (CSCO or ISCO-08): a strong signal.
        score = max(score, 0.9)
        detail += f"; same occupation {job.occupation_code}"
    return Factor(score, detail)


def skills_factor(
    job: JobProfile, candidate: CandidateProfile
) -> tuple[Factor, list[str], list[str], list[str]]:
    """Required skills count fully, preferred half; synonyms and languages meet in the
    vocabulary's canonical ids ("JS" = "JavaScript", "机器学习" = "machine learning")."""
    vocabulary = skill_vocabulary()
    have = set(candidate.skills)
    preferred_only = [s for s in job.preferred_skills if s not in job.required_skills]
    weight_total = len(job.required_skills) + 0.5 * len(preferred_only)
    if weight_total == 0:
        return Factor(None, "the posting lists no skills"), [], [], []
    earned = sum(1.0 for s in job.required_skills if s in have) + sum(
        0.5 for s in preferred_only if s in have
    )
    matched = [s for s in job.skills if s in have]
    missing = [s for s in job.required_skills if s not in have]
    missing_preferred = [s for s in preferred_only if s not in have]
    names = [vocabulary.display_name(s) for s in matched]
    detail = f"{len(matched)} of {len(job.skills)} skills" + (
        f": {', '.join(names)}" if names else ""
    )
    return Factor(earned / weight_total, detail), matched, missing, missing_preferred


# The share of the required years below which a candidate is too junior for the role.
JUNIOR_SHARE = 0.6


def experience_factor(job: JobProfile, candidate: CandidateProfile) -> Factor:
    if not job.min_years:
        return Factor(None, "no experience required")
    if candidate.years is None:
        return Factor(0.0, f"{job.min_years:g} years required; candidate's experience unknown")
    score = min(1.0, candidate.years / job.min_years)
    # Under 60% of the years asked is a junior for a senior role: like another city for an
    # on-site post, or a pay floor above the range, a recruiter passes on it whatever else fits.
    return Factor(
        score,
        f"{candidate.years:g} of {job.min_years:g} years required",
        hard_mismatch=score < JUNIOR_SHARE,
    )


def education_factor(job: JobProfile, candidate: CandidateProfile) -> Factor:
    if not job.education_rank:
        return Factor(None, "no education required")
    if candidate.education_rank is None:
        return Factor(0.0, "education required; candidate's education unknown")
    gap = job.education_rank - candidate.education_rank
    score = 1.0 if gap <= 0 else (0.5 if gap == 1 else 0.0)
    return Factor(
        score,
        "meets the education requirement" if gap <= 0 else f"{gap} level(s) below the requirement",
    )


def location_factor(job: JobProfile, candidate: CandidateProfile) -> Factor:
    if job.remote:
        return Factor(1.0, "remote position")
    if job.city_code is None and not job.city:
        return Factor(None, "the posting names no city")
    if candidate.city_code is None and not candidate.city:
        return Factor(0.5, f"on-site in {job.city}; candidate's city unknown")
    same = (
        job.city_code == candidate.city_code
        if job.city_code is not None and candidate.city_code is not None
        else (job.city or "").lower() == (candidate.city or "").lower()
    )
    if same:
        return Factor(1.0, f"both in {job.city}")
    return Factor(
        0.0, f"on-site in {job.city}; candidate is in {candidate.city}", hard_mismatch=True
    )


def salary_factor(job: JobProfile, candidate: CandidateProfile) -> Factor:
    if candidate.desired_salary_min is None or (job.salary_min is None and job.salary_max is None):
        return Factor(None, "salary not stated on both sides")
    top = job.salary_max if job.salary_max is not None else job.salary_min
    assert top is not None
    if candidate.desired_salary_min <= top:
        return Factor(1.0, f"expects {candidate.desired_salary_min:g}; posting pays up to {top:g}")
    return Factor(
        0.0,
        f"expects at least {candidate.desired_salary_min:g}; posting pays at most {top:g}",
        hard_mismatch=True,
    )


def keyword_factor(relevance: float | None) -> Factor:
    """How strongly keyword retrieval (BM25) found this record for the other side's titles
    and skills, relative to the best keyword hit of the same query."""
    if relevance is None:
        return Factor(None, "keyword retrieval found nothing to compare")
    if relevance == 0:
        return Factor(0.0, "no keyword overlap with the titles and skills sought")
    return Factor(relevance, f"keyword relevance {relevance:.2f} of the best keyword hit")


def score_match(
    job: JobProfile,
    candidate: CandidateProfile,
    *,
    job_vectors: tuple[np.ndarray, np.ndarray],
    candidate_vectors: tuple[np.ndarray, np.ndarray],
    model: RankerModel | None = None,
    keyword: float | None = None,
) -> MatchScore:
    """The explained score of ``candidate`` for ``job`` (symmetric in use: both directions).
    ``keyword`` is the pair's relative BM25 relevance from retrieval, when retrieval ran."""
    model = model or default_model()
    skills, matched, missing, missing_preferred = skills_factor(job, candidate)
    factors = {
        "semantic": semantic_factor(job_vectors[0], candidate_vectors[0]),
        "skills": skills,
        "title": title_factor(job, candidate, job_vectors[1], candidate_vectors[1]),
        "experience": experience_factor(job, candidate),
        "education": education_factor(job, candidate),
        "location": location_factor(job, candidate),
        "salary": salary_factor(job, candidate),
        "keyword": keyword_factor(keyword),
    }
    mismatches = sum(1 for f in factors.values() if f.hard_mismatch)
    score, contributions = model.score({name: f.score for name, f in factors.items()}, mismatches)
    vocabulary = skill_vocabulary()
    return MatchScore(
        score=score,  # unrounded: near the top of the curve small differences still order
        factors=factors,
        contributions=contributions,
        weights=model.weights,
        penalty=model.mismatch_penalty**mismatches,
        hard_mismatch_count=mismatches,
        model_version=model.version,
        matched_skills=[vocabulary.display_name(s) for s in matched],
        missing_skills=[vocabulary.display_name(s) for s in missing],
        missing_preferred_skills=[vocabulary.display_name(s) for s in missing_preferred],
        matched_skill_ids=list(matched),
    )
