"""Scoring rules that mutation testing of ``matching/scoring.py`` found unpinned: abstain or
count, bounds of each factor, which side's field decides, and what the explanation says."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching.scoring import (
    MatchScore,
    education_factor,
    experience_factor,
    location_factor,
    salary_factor,
    score_match,
    skills_factor,
    title_factor,
)
from representation.profiles import CandidateProfile, JobProfile
from tests.matching.test_scoring import CANDIDATE, JOB, UNIT

OTHER = np.eye(4, dtype=np.float32)[1]  # orthogonal to UNIT: an unrelated text


def _vector(similarity: float) -> np.ndarray:
    return np.array([similarity, np.sqrt(1 - similarity**2), 0, 0], dtype=np.float32)


def _match(
    job: JobProfile = JOB,
    candidate: CandidateProfile = CANDIDATE,
    *,
    similarity: float = 1.0,
    title_similarity: float | None = None,
    keyword: float | None = None,
) -> MatchScore:
    content = _vector(similarity)
    title = content if title_similarity is None else _vector(title_similarity)
    return score_match(
        job, candidate, job_vectors=(UNIT, UNIT), candidate_vectors=(content, title),
        keyword=keyword,
    )  # fmt: skip


MOVED = replace(CANDIDATE, city="北京", city_code=110000)
NO_CITY = replace(CANDIDATE, city=None, city_code=None)


def test_stating_no_title_counts_as_no_occupation_evidence_not_as_none() -> None:
    no_title = replace(CANDIDATE, titles=())
    unrelated = replace(CANDIDATE, titles=("Pastry Chef",))
    # Left out, a missing title would score a profile above one with an unrelated title.
    assert (
        _match(candidate=no_title, similarity=0.6).score
        <= _match(candidate=unrelated, similarity=0.6, title_similarity=0.0).score
    )
    assert _match(candidate=no_title, similarity=0.6).score < _match(similarity=0.6).score


def test_title_words_in_common_count_even_when_the_title_vectors_disagree() -> None:
    same_words = replace(CANDIDATE, titles=("Senior Backend Engineer",))
    other_words = replace(CANDIDATE, titles=("Pastry Chef",))
    shared = title_factor(JOB, same_words, UNIT, OTHER).score
    unshared = title_factor(JOB, other_words, UNIT, OTHER).score
    assert shared is not None and unshared is not None
    assert shared >= 2 / 3  # {backend, engineer} of {senior, backend, engineer}
    assert unshared == 0.0  # counted as no evidence, not left out
    # The best of several titles decides, whatever order they come in.
    both = replace(CANDIDATE, titles=("Pastry Chef", "Backend Engineer"))
    assert title_factor(JOB, both, UNIT, OTHER).score == pytest.approx(1.0)
    assert (
        _match(candidate=other_words, similarity=0.6, title_similarity=0.0).score
        < _match(candidate=same_words, similarity=0.6, title_similarity=0.0).score
    )


def test_titles_without_words_fall_back_to_the_vectors() -> None:
    wordless = replace(JOB, title="--")
    candidate = replace(CANDIDATE, titles=("/",))
    assert title_factor(wordless, candidate, UNIT, UNIT).score == pytest.approx(1.0)
    assert title_factor(wordless, candidate, UNIT, OTHER).score == 0.0


def test_only_the_same_occupation_code_lifts_the_title_score() -> None:
    job = replace(JOB, occupation_code="2-02-10-03")
    chef = replace(CANDIDATE, titles=("Pastry Chef",))
    same = title_factor(job, replace(chef, occupation_code="2-02-10-03"), UNIT, OTHER)
    other = title_factor(job, replace(chef, occupation_code="4-03-02-01"), UNIT, OTHER)
    assert same.score is not None and same.score >= 0.9
    assert "same occupation" in same.detail
    assert other.score == 0.0
    assert "same occupation" not in other.detail


def test_preferred_skills_count_half_and_required_only_postings_score() -> None:
    with_docker = skills_factor(JOB, CANDIDATE)[0].score
    without_docker = skills_factor(JOB, replace(CANDIDATE, skills=("python", "mysql")))[0].score
    assert with_docker == pytest.approx(1.0)
    assert without_docker is not None and 0.5 < without_docker < 1.0
    two_preferred = replace(JOB, preferred_skills=("docker", "kubernetes"))
    one_of_two = skills_factor(two_preferred, CANDIDATE)[0].score
    # Each preferred skill is worth half a required one, however many the posting lists.
    assert one_of_two == pytest.approx(2.5 / 3)
    required_only = replace(JOB, preferred_skills=())
    assert skills_factor(required_only, CANDIDATE)[0].score == pytest.approx(1.0)
    one_required = replace(JOB, required_skills=("java",), preferred_skills=())
    assert skills_factor(one_required, CANDIDATE)[0].score == 0.0


def test_the_skill_lists_name_what_is_matched_and_what_is_missing() -> None:
    lacks_mysql = replace(CANDIDATE, skills=("python", "docker"))
    match = _match(candidate=lacks_mysql)
    assert match.matched_skills == ["Python", "Docker"]
    assert match.matched_skill_ids == ["python", "docker"]
    assert match.missing_skills == ["MySQL"]
    assert match.missing_preferred_skills == []
    lacks_docker = _match(candidate=replace(CANDIDATE, skills=("python", "mysql")))
    assert lacks_docker.missing_skills == []
    assert lacks_docker.missing_preferred_skills == ["Docker"]
    detail = match.factors["skills"].detail
    assert "2 of 3" in detail and "Python" in detail and "Docker" in detail
    assert "MySQL" not in detail


def test_unknown_experience_or_education_counts_against_a_requirement() -> None:
    perfect = _match().score
    assert _match(candidate=replace(CANDIDATE, years=None)).score < perfect
    assert _match(candidate=replace(CANDIDATE, education_rank=None)).score < perfect
    assert experience_factor(JOB, replace(CANDIDATE, years=None)).score == 0.0
    assert education_factor(JOB, replace(CANDIDATE, education_rank=None)).score == 0.0


def test_the_education_explanation_says_whether_the_requirement_is_met() -> None:
    meets = education_factor(JOB, CANDIDATE).detail
    above = education_factor(JOB, replace(CANDIDATE, education_rank=5)).detail
    one_below = education_factor(JOB, replace(CANDIDATE, education_rank=2)).detail
    two_below = education_factor(JOB, replace(CANDIDATE, education_rank=1)).detail
    assert "below" not in meets and "below" not in above
    assert "meets" in meets and "meets" in above
    assert "1 level" in one_below and "meets" not in one_below
    assert "2 level" in two_below and "meets" not in two_below


def test_every_factor_score_stays_within_zero_and_one() -> None:
    cases = [
        (JOB, CANDIDATE),
        (JOB, replace(CANDIDATE, education_rank=6, years=30)),
        (JOB, NO_CITY),
        (JOB, MOVED),
        (JOB, replace(CANDIDATE, desired_salary_min=90000)),
        (replace(JOB, remote=True), MOVED),
        (
            replace(JOB, occupation_code="2-02-10-03"),
            replace(CANDIDATE, occupation_code="2-02-10-03"),
        ),
    ]
    for job, candidate in cases:
        for name, factor in _match(job, candidate, keyword=0.4).factors.items():
            assert factor.score is None or 0.0 <= factor.score <= 1.0, (name, factor)


def test_location_same_city_full_other_city_zero_unknown_between() -> None:
    assert location_factor(JOB, CANDIDATE).score == 1.0
    other = location_factor(JOB, MOVED)
    assert other.score == 0.0 and other.hard_mismatch
    unknown = location_factor(JOB, NO_CITY)
    assert unknown.score is not None and 0.0 < unknown.score < 1.0
    assert not unknown.hard_mismatch
    assert _match(candidate=MOVED).score < _match(candidate=NO_CITY).score < _match().score


def test_a_city_stated_by_name_or_by_code_alone_still_decides() -> None:
    named_only = replace(JOB, city_code=None)
    coded_only = replace(JOB, city=None)
    for job in (named_only, coded_only):
        assert location_factor(job, MOVED).hard_mismatch, job
    # A candidate with only a code, or only a name, is compared, not taken as unknown.
    assert location_factor(JOB, replace(MOVED, city=None)).hard_mismatch
    assert location_factor(JOB, replace(MOVED, city_code=None)).hard_mismatch
    assert location_factor(JOB, replace(CANDIDATE, city=None)).score == 1.0
    assert location_factor(named_only, replace(CANDIDATE, city_code=None)).score == 1.0


def test_codes_decide_when_both_sides_have_one_names_otherwise() -> None:
    # The same coded city, written in two languages, is the same city.
    assert location_factor(JOB, replace(CANDIDATE, city="Shenzhen")).score == 1.0
    # One side without a code: the names are compared (case apart).
    named_job = replace(JOB, city="Shenzhen", city_code=None)
    assert location_factor(named_job, replace(CANDIDATE, city="shenzhen")).score == 1.0
    named_candidate = replace(CANDIDATE, city_code=None)
    assert location_factor(JOB, named_candidate).score == 1.0


def test_salary_the_top_of_the_posting_is_the_bound() -> None:
    only_min = replace(JOB, salary_max=None)  # "20K 起"
    only_max = replace(JOB, salary_min=None)
    fits = salary_factor(only_min, replace(CANDIDATE, desired_salary_min=18000))
    assert fits.score == 1.0 and not fits.hard_mismatch
    assert salary_factor(only_max, replace(CANDIDATE, desired_salary_min=90000)).hard_mismatch
    at_top = salary_factor(JOB, replace(CANDIDATE, desired_salary_min=30000))
    assert at_top.score == 1.0 and not at_top.hard_mismatch
    above = salary_factor(JOB, replace(CANDIDATE, desired_salary_min=30001))
    assert above.score == 0.0 and above.hard_mismatch
    assert salary_factor(JOB, CANDIDATE).score == 1.0


def test_semantic_factor_reads_the_content_vectors_not_the_titles() -> None:
    match = score_match(JOB, CANDIDATE, job_vectors=(UNIT, OTHER), candidate_vectors=(UNIT, UNIT))
    assert match.factors["semantic"].score == pytest.approx(1.0)
    match = score_match(JOB, CANDIDATE, job_vectors=(UNIT, UNIT), candidate_vectors=(UNIT, OTHER))
    assert match.factors["semantic"].score == pytest.approx(1.0)


def test_keyword_relevance_moves_the_score() -> None:
    strong = _match(similarity=0.6, keyword=1.0)
    weak = _match(similarity=0.6, keyword=0.1)
    assert strong.score > weak.score
    assert strong.factors["keyword"].score == 1.0
    assert "keyword" in strong.breakdown()


def test_the_breakdown_shows_the_models_weights_and_the_penalty_per_mismatch() -> None:
    match = _match(similarity=0.6)
    breakdown = match.breakdown()
    weights = [e["weight"] for e in breakdown.values()]
    assert all(isinstance(w, float) for w in weights)
    assert sum(w for w in weights if isinstance(w, float)) == pytest.approx(1.0, abs=1e-4)
    assert match.penalty == 1.0
    one = _match(candidate=MOVED, similarity=0.6)
    two = _match(candidate=replace(MOVED, desired_salary_min=90000), similarity=0.6)
    assert 0 < one.penalty < 1
    assert two.penalty == pytest.approx(one.penalty**2)


def test_every_factor_explains_itself_in_every_case() -> None:
    bare = replace(
        JOB, min_years=None, education_rank=None, salary_min=None, salary_max=None,
        city=None, city_code=None, required_skills=(), preferred_skills=(),
    )  # fmt: skip
    cases = [
        (JOB, CANDIDATE, None),
        (JOB, replace(CANDIDATE, titles=(), years=None, education_rank=None), 0.0),
        (JOB, NO_CITY, 0.5),
        (JOB, replace(MOVED, desired_salary_min=90000), None),
        (bare, CANDIDATE, None),
        (replace(JOB, remote=True), MOVED, None),
    ]
    for job, candidate, keyword in cases:
        for name, factor in _match(job, candidate, keyword=keyword).factors.items():
            assert isinstance(factor.detail, str) and factor.detail.strip(), (name, factor)
    detail = location_factor(JOB, MOVED).detail
    assert "深圳" in detail and "北京" in detail
    assert "5" in experience_factor(JOB, CANDIDATE).detail
    many = replace(CANDIDATE, titles=("A1 Lead", "B2 Lead", "C3 Lead", "D4 Lead"))
    detail = title_factor(JOB, many, UNIT, UNIT).detail
    # At most three of a candidate's titles: the explanation stays one line.
    assert "C3 Lead" in detail and "D4 Lead" not in detail


def test_a_remote_posting_takes_any_city_as_a_full_location_match() -> None:
    remote = replace(JOB, remote=True)
    factor = location_factor(remote, MOVED)
    assert factor.score == 1.0 and not factor.hard_mismatch
    assert _match(remote, MOVED, similarity=0.6).score == pytest.approx(
        _match(remote, CANDIDATE, similarity=0.6).score
    )
    assert _match(remote, MOVED, similarity=0.6).score > _match(JOB, MOVED, similarity=0.6).score


def test_zero_keyword_relevance_counts_against_the_pair() -> None:
    found_nothing = _match(similarity=0.6, keyword=0.0)
    assert found_nothing.factors["keyword"].score == 0.0
    # Retrieval ran and found no overlap: worse than a pair retrieval never judged.
    assert found_nothing.score < _match(similarity=0.6, keyword=None).score


def test_the_same_occupation_keeps_the_titles_in_the_explanation_and_the_bound() -> None:
    job = replace(JOB, occupation_code="2-02-10-03")
    candidate = replace(CANDIDATE, titles=("Pastry Chef",), occupation_code="2-02-10-03")
    factor = title_factor(job, candidate, UNIT, UNIT)
    assert factor.score == pytest.approx(1.0)
    assert "Backend Engineer" in factor.detail and "Pastry Chef" in factor.detail
    assert "same occupation" in factor.detail


def test_the_breakdown_a_user_reads_has_rounded_scores_and_shares_that_add_up() -> None:
    match = _match(replace(JOB, min_years=None), replace(CANDIDATE, skills=("python", "docker")))
    breakdown = match.breakdown()
    for name, entry in breakdown.items():
        assert {"score", "weight", "contribution", "detail"} <= set(entry), name
    skills = breakdown["skills"]
    assert skills["score"] == 0.6  # 1.5 of 2.5: required count fully, preferred half
    semantic = _match(similarity=0.5).breakdown()["semantic"]["score"]  # 0.35 / 0.6
    assert isinstance(semantic, float) and 0.58 < semantic < 0.59
    assert semantic == round(semantic, 4) and semantic != round(semantic, 3)
    assert breakdown["experience"]["score"] is None
    assert breakdown["experience"]["contribution"] == 0.0  # abstains: no share
    shares = [e["contribution"] for e in breakdown.values()]
    assert all(isinstance(s, float) for s in shares)
    assert all(s == round(s, 4) for s in shares if isinstance(s, float))  # as shown
    assert any(s != round(s, 3) for s in shares if isinstance(s, float))
    total = sum(s for s in shares if isinstance(s, float))
    assert total == pytest.approx(match.score, abs=1e-3) and total > 0
    assert breakdown["skills"]["detail"] == match.factors["skills"].detail
