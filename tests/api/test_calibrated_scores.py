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
        "experience": [
            {
                "title": "QE工程师",
                "company": "某注塑厂",
                "start": "2020-05",
                "end": "present",
                "description": "负责制程品质和客诉8D。",
            }
        ],  # fmt: skip
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


JAVA_JOB: dict[str, Any] = {
    "title": "高级Java开发工程师",
    "description": "负责支付核心系统的后端服务设计与开发，参与高并发交易链路的性能优化。",
    "company": "深圳市云启科技有限公司",
    "city": "深圳",
    "salary_min": 25000,
    "salary_max": 40000,
    "required_skills": ["Java", "Spring Boot", "MySQL"],
    "preferred_skills": ["Redis"],
    "min_years_experience": 5,
    "education": "bachelor",
}


async def test_empty_and_unrelated_profiles_score_low(api: Api) -> None:
    job = await api.create_job("acme", **JAVA_JOB)
    # Name and city only: nothing says this person can do the job.
    empty = await api.create_candidate(
        "acme", name="陈静", city="深圳", desired_titles=[], skills=[], experience=[],
        summary="", years_experience=None, education=None, desired_salary_min=None,
    )  # fmt: skip
    # Another occupation, none of the required skills, everything else in order.
    frontend = await api.create_candidate(
        "acme", name="林雨萱", city="深圳", desired_titles=["前端开发工程师"],
        skills=["JavaScript", "Vue", "TypeScript"], summary="四年前端开发经验，擅长Vue和小程序。",
        years_experience=6, desired_salary_min=26000,
        experience=[{"title": "前端工程师", "company": "某生鲜电商", "start": "2019-04", "end": "present",
                     "description": "负责商城小程序和运营后台的Vue开发。"}],
    )  # fmt: skip
    quality = await api.create_candidate(
        "acme", name="Peter Tan", city="深圳", desired_titles=["Supplier Quality Engineer"],
        skills=["Quality management", "Lean manufacturing"], years_experience=6,
        summary="Six years of supplier quality in electronics.", desired_salary_min=26000,
        experience=[{"title": "Supplier Quality Engineer", "company": "an electronics maker",
                     "start": "2019-05", "end": "present", "description": "Supplier audits and PPAP."}],
    )  # fmt: skip
    java = await api.create_candidate(
        "acme", name="陈志强", city="深圳", desired_titles=["Java开发工程师"], years_experience=7,
        skills=["Java", "Spring Boot", "MySQL", "Redis"], summary="七年Java后端开发经验。",
        desired_salary_min=32000, experience=[],
    )  # fmt: skip
    matches = await scores_for(api, job["id"])
    assert next(iter(matches)) == java["id"]
    assert matches[empty["id"]]["score"] < 0.1
    assert matches[frontend["id"]]["score"] < 0.2
    assert matches[quality["id"]]["score"] < 0.2


async def test_a_pool_of_near_misses_spreads_below_the_strong_candidate(api: Api) -> None:
    job = await api.create_job("acme", **FOSHAN_QUALITY_JOB)
    strong = await api.create_candidate("acme", **quality_engineer())
    near_misses = [
        await api.create_candidate("acme", **quality_engineer(name=name, **change))
        for name, change in [
            ("彭一", {"city": "深圳"}),  # on-site job, another city
            ("彭二", {"desired_salary_min": 15000}),  # floor above the posting's range
            ("彭四", {"skills": ["质量管理"]}),  # one of three required skills
        ]
    ]
    matches = await scores_for(api, job["id"])
    top = matches[strong["id"]]["score"]
    assert top >= 0.8
    assert all(matches[p["id"]]["score"] <= top - 0.1 for p in near_misses)
    assert sum(m["score"] >= 0.99 for m in matches.values()) <= 1
