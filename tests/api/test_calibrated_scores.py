"""Match scores a recruiter can threshold, through the match API on real profiles: hard
mismatches and missing required skills cost visibly, empty and unrelated profiles score low,
and a pool's scores spread instead of sitting at 0.99+."""

from __future__ import annotations

from typing import Any

import pytest

from core.settings import Settings
from tests.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every profile retrieved (no semantic floor): the score itself must rate empty and
    unrelated profiles low, whatever retrieval lets through (a keyword hit, a lower floor)."""
    search = settings.search.model_copy(update={"semantic_floor": -1.0})
    return settings.model_copy(update={"search": search})

FOSHAN_QUALITY_JOB: dict[str, Any] = {
    "title": "质量工程师",
    "description": "负责来料和制程质量管控、客诉分析与8D报告，需在佛山工厂现场办公。",
    "company": "佛山市精工塑胶制品有限公司",
    "city": "佛山",
    "district": "南海",
    "salary_min": 8000,
    "salary_max": 12000,
    "required_skills": ["质量管理", "精益生产", "Excel"],
    "preferred_skills": [],
    "min_years_experience": 3,
    "education": "associate",
}


def quality_engineer(**overrides: Any) -> dict[str, Any]:
    """A quality engineer who meets every requirement of the Foshan posting."""
    person: dict[str, Any] = {
        "name": "彭伟",
        "city": "佛山",
        "desired_titles": ["质量工程师"],
        "desired_salary_min": 9000,
        "years_experience": 5,
        "education": {"level": "associate"},
        "skills": ["质量管理", "精益生产", "Excel"],
        "experience": [{"title": "QE工程师", "company": "某注塑厂", "start": "2020-05",
                        "end": "present", "description": "负责制程品质和客诉8D。"}],  # fmt: skip
        "summary": "五年注塑行业质量经验。",
    }
    return person | overrides


async def scores_for(api: Api, job_id: int) -> dict[int, dict[str, Any]]:
    response = await api.get(f"/v1/jobs/{job_id}/matches", "acme", params={"limit": 100})
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()["matches"]}


async def test_two_hard_mismatches_cost_a_strong_pair_at_least_015(api: Api) -> None:
    job = await api.create_job("acme", **FOSHAN_QUALITY_JOB)
    local = await api.create_candidate("acme", **quality_engineer())
    # The same person living in Shenzhen and expecting more than the posting pays.
    away = await api.create_candidate(
        "acme", **quality_engineer(name="彭伟明", city="深圳", desired_salary_min=15000)
    )
    matches = await scores_for(api, job["id"])
    assert sorted(matches[away["id"]]["hard_mismatches"]) == ["location", "salary"]
    assert matches[local["id"]]["hard_mismatches"] == []
    assert matches[local["id"]]["score"] >= 0.5
    assert matches[local["id"]]["score"] - matches[away["id"]]["score"] >= 0.15


async def test_one_required_skill_of_three_costs_at_least_025(api: Api) -> None:
    job = await api.create_job("acme", **FOSHAN_QUALITY_JOB)
    complete = await api.create_candidate("acme", **quality_engineer())
    partial = await api.create_candidate(
        "acme", **quality_engineer(name="彭志伟", skills=["质量管理", "SolidWorks", "AutoCAD"])
    )
    matches = await scores_for(api, job["id"])
    assert matches[partial["id"]]["missing_skills"] == ["Lean manufacturing", "Excel"]
    assert matches[complete["id"]]["score"] - matches[partial["id"]]["score"] >= 0.25


async def test_empty_and_unrelated_profiles_score_low(api: Api) -> None:
    job = await api.create_job("acme", **FOSHAN_QUALITY_JOB)
    # Name and city only: nothing says this person can do the job.
    empty = await api.create_candidate(
        "acme", name="陈静", city="佛山", desired_titles=[], skills=[], experience=[],
        summary="", years_experience=None, education=None, desired_salary_min=None,
    )  # fmt: skip
    chef = await api.create_candidate(
        "acme", name="莫师傅", city="佛山", desired_titles=["粤菜厨师"], skills=["烹饪"],
        summary="六年粤菜热菜经验。", years_experience=6, education={"level": "high_school"},
        desired_salary_min=9000,
        experience=[{"title": "热菜厨师", "company": "某粤菜酒楼", "start": "2019-03", "end": "present",
                     "description": "负责热菜出品。"}],
    )  # fmt: skip
    await api.create_candidate("acme", **quality_engineer())
    matches = await scores_for(api, job["id"])
    assert empty["id"] in matches and chef["id"] in matches
    assert matches[empty["id"]]["score"] < 0.1
    assert matches[chef["id"]]["score"] < 0.2
