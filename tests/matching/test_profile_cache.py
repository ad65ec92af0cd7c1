"""The per-process caches of scoring profiles: one profile per row and version, rebuilt when
the row's ``updated_at`` moves, bounded, and dropped on request."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from matching.service import CandidateProfileCache, JobProfileCache
from representation.profiles import CandidateProfile, JobProfile
from store.models import Candidate, Job

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def candidate(candidate_id: int = 1, **fields: object) -> Candidate:
    values: dict[str, object] = {
        "tenant_id": "acme", "name": "李娜", "city": "深圳", "city_code": 440300,
        "desired_titles": ["护士（女，32岁）"], "experience": [{"title": "门诊护士"}],
        "skills": ["Nursing"], "education": {"level": "bachelor"}, "updated_at": WHEN,
        "years_experience": 8.0, "desired_salary_min": 12000.0, "occupation_code": None,
    }  # fmt: skip
    values.update(fields)
    return Candidate(id=candidate_id, **values)


def job(job_id: int = 1, **fields: object) -> Job:
    values: dict[str, object] = {
        "tenant_id": "acme", "title": "护士 电话13912345678", "description": "门诊护理，微信 abc_12345",
        "company": "医院", "city": "深圳", "city_code": 440300, "district_code": None,
        "remote": False, "salary_min": 10000.0, "salary_max": 15000.0,
        "employment_type": "full_time", "required_skills": ["Nursing"], "preferred_skills": [],
        "min_years_experience": 2.0, "education": "bachelor", "private": False,
        "posted_at": WHEN, "updated_at": WHEN, "occupation_code": None,
    }  # fmt: skip
    values.update(fields)
    return Job(id=job_id, **values)


def test_a_profile_is_built_once_per_version_of_its_row() -> None:
    cache = CandidateProfileCache()
    row = candidate()
    first = cache.profile(row)
    assert first == CandidateProfile.from_row(row, with_texts=False)
    titles = " ".join(first.titles)
    assert "门诊护士" in titles and "女" not in titles and "32" not in titles
    assert cache.profile(row) is first
    # An edit moves updated_at: the next read sees it.
    row.skills = ["Nursing", "Communication skills"]
    row.updated_at = WHEN + timedelta(microseconds=1)
    second = cache.profile(row)
    assert second is not first and len(second.skills) == 2


def test_rows_of_the_same_version_time_keep_their_own_profiles() -> None:
    cache = CandidateProfileCache()
    one, two = candidate(1), candidate(2, skills=["Excel"])
    assert cache.profile(one).skills != cache.profile(two).skills
    assert cache.profile(one).id == 1 and cache.profile(two).id == 2


def test_the_cache_is_bounded_least_recently_used_first_out() -> None:
    cache = CandidateProfileCache(size=2)
    rows = [candidate(i) for i in (1, 2, 3)]
    cache.profile(rows[0])
    cache.profile(rows[1])
    cache.profile(rows[0])  # 1 is now the most recently used
    cache.profile(rows[2])
    assert 1 in cache and 3 in cache and 2 not in cache


def test_forget_drops_a_profile() -> None:
    cache = CandidateProfileCache()
    row = candidate(7)
    cache.profile(row)
    cache.forget(7)
    cache.forget(8)  # never cached: nothing to do
    assert 7 not in cache


def test_postings_are_cached_as_scoring_reads_them_without_the_description() -> None:
    cache = JobProfileCache()
    row = job()
    cached = cache.profile(row)
    full = JobProfile.from_row(row)
    assert cached == replace(full, description="")
    assert "13912345678" not in cached.title and full.description  # contacts still removed
    assert cache.profile(row) is cached
