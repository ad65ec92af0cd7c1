"""Factor-level scoring rules, on domain profiles with controlled vectors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching.ranker import default_model
from matching.scoring import score_match
from representation.profiles import CandidateProfile, JobProfile

UNIT = np.eye(4, dtype=np.float32)[0]

JOB = JobProfile(
    id=1,
    tenant_id="t",
    title="Backend Engineer",
    description="",
    company=None,
    city="深圳",
    city_code=440300,
    district_code=None,
    remote=False,
    salary_min=20000,
    salary_max=30000,
    employment_type="full_time",
    required_skills=("python", "mysql"),
    preferred_skills=("docker",),
    min_years=3,
    education_rank=3,
    private=False,
    timestamp=0.0,
)
CANDIDATE = CandidateProfile(
    id=2,
    tenant_id="t",
    name="x",
    titles=("Backend Engineer",),
    city="深圳",
    city_code=440300,
    desired_salary_min=25000,
    years=5,
    education_rank=3,
    skills=("python", "mysql", "docker"),
    raw_skills=(),
    experience_text="",
    summary="",
    resume_text="",
    timestamp=0.0,
)


def score(
    job: JobProfile = JOB, candidate: CandidateProfile = CANDIDATE, similarity: float = 1.0
) -> float:
    other = np.array([similarity, np.sqrt(max(0.0, 1 - similarity**2)), 0, 0], dtype=np.float32)
    return score_match(
        job, candidate, job_vectors=(UNIT, UNIT), candidate_vectors=(other, other)
    ).score


def test_perfect_fit_scores_one_and_contributions_add_up() -> None:
    match = score_match(JOB, CANDIDATE, job_vectors=(UNIT, UNIT), candidate_vectors=(UNIT, UNIT))
    assert match.score == pytest.approx(1.0)
    assert sum(match.contributions.values()) == pytest.approx(match.score)


def test_empty_profile_scores_near_zero() -> None:
    empty = CandidateProfile(
        id=3,
        tenant_id="t",
        name=None,
        titles=(),
        city=None,
        city_code=None,
        desired_salary_min=None,
        years=None,
        education_rank=None,
        skills=(),
        raw_skills=(),
        experience_text="",
        summary="",
        resume_text="",
        timestamp=0.0,
    )
    assert score(candidate=empty, similarity=0.1) < 0.15


def test_required_skills_outweigh_preferred() -> None:
    missing_required = replace(CANDIDATE, skills=("python", "docker"))
    missing_preferred = replace(CANDIDATE, skills=("python", "mysql"))
    assert score(candidate=missing_preferred) > score(candidate=missing_required)


def test_less_experience_and_education_lower_the_score() -> None:
    assert score(candidate=replace(CANDIDATE, years=1)) < score()
    assert score(candidate=replace(CANDIDATE, education_rank=2)) < score()
    assert score(candidate=replace(CANDIDATE, education_rank=1)) < score(
        candidate=replace(CANDIDATE, education_rank=2)
    )


def test_each_hard_mismatch_takes_the_models_penalty_of_the_evidence() -> None:
    model = default_model()
    assert 0.5 <= model.mismatch_penalty <= 0.95
    moved = replace(CANDIDATE, city="北京", city_code=110000)
    expensive = replace(moved, desired_salary_min=90000)
    # Less similar than identical, so the evidence is below the top of the curve.
    assert score(candidate=expensive, similarity=0.6) < score(candidate=moved, similarity=0.6)
    assert score(candidate=moved, similarity=0.6) < score(similarity=0.6)
    for candidate, mismatches in [(CANDIDATE, 0), (moved, 1), (expensive, 2)]:
        match = score_match(
            JOB, candidate, job_vectors=(UNIT, UNIT), candidate_vectors=(UNIT, UNIT)
        )
        assert match.hard_mismatch_count == mismatches
        known = {n: s for n, s in match.factor_scores().items() if s is not None}
        raw = sum(model.weights[n] * s for n, s in known.items()) / sum(
            model.weights[n] for n in known
        )
        # The penalty scales the evidence before calibration (the order the fit optimized).
        assert match.score == pytest.approx(
            model.calibrate(model.mismatch_penalty**mismatches * raw)
        )


def test_unknown_factors_are_left_out_not_counted_as_zero() -> None:
    no_requirements = replace(
        JOB, min_years=None, education_rank=None, salary_min=None, salary_max=None
    )
    match = score_match(
        no_requirements, CANDIDATE, job_vectors=(UNIT, UNIT), candidate_vectors=(UNIT, UNIT)
    )
    assert match.factors["experience"].score is None
    assert "experience" not in match.contributions
    assert match.score == pytest.approx(1.0)


def test_semantic_similarity_orders_otherwise_equal_candidates() -> None:
    assert score(similarity=0.9) > score(similarity=0.5) > score(similarity=0.1)


def test_calibrated_scores_put_an_empty_profile_near_zero() -> None:
    empty = replace(CANDIDATE, titles=(), city=None, city_code=None, desired_salary_min=None,
                    years=None, education_rank=None, skills=(), raw_skills=())  # fmt: skip
    unrelated = np.eye(4, dtype=np.float32)[1]
    match = score_match(
        JOB, empty, job_vectors=(UNIT, UNIT), candidate_vectors=(unrelated, unrelated)
    )
    assert match.score < 0.05
    assert match.model_version == default_model().version
    assert score() > 0.8  # a candidate meeting everything scores high on the same scale
