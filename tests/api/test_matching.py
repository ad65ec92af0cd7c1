"""Two-way matching through the API: ranking, synonyms across languages, hard mismatches,
explanations that add up."""

from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio


def contribution_total(match: dict) -> float:
    return sum(f["contribution"] for f in match["breakdown"].values())


async def test_matching_candidate_ranks_above_unrelated_ones(api: Api) -> None:
    job = await api.create_job(
        "acme",
        title="机器学习工程师",
        required_skills=["机器学习", "Python", "JS"],
        preferred_skills=["Docker"],
        description="负责推荐系统的机器学习模型。",
        min_years_experience=3,
        education="master",
    )
    good = await api.create_candidate(
        "acme",
        name="Good",
        desired_titles=["Machine Learning Engineer"],
        skills=["machine learning", "python", "JavaScript"],
        summary="Machine learning engineer building recommender systems.",
        years_experience=4,
        education={"level": "master"},
        experience=[],
    )
    await api.create_candidate(
        "acme",
        name="Chef",
        desired_titles=["厨师"],
        skills=["烹饪"],
        summary="十年粤菜厨师经验。",
        years_experience=10,
        education={"level": "high_school"},
        experience=[],
    )
    await api.create_candidate(
        "acme",
        name="Accountant",
        desired_titles=["会计"],
        skills=["会计", "Excel"],
        summary="总账会计。",
        years_experience=5,
        education={"level": "associate"},
        experience=[],
    )
    response = await api.get(f"/v1/jobs/{job['id']}/matches", "acme", params={"limit": 10})
    assert response.status_code == 200
    matches = response.json()["matches"]
    assert matches[0]["id"] == good["id"]
    top = matches[0]
    # 机器学习 = machine learning, JS = JavaScript: all three required skills met.
    assert set(top["matched_skills"]) == {"Machine learning", "Python", "JavaScript"}
    assert top["missing_skills"] == []
    assert top["missing_preferred_skills"] == ["Docker"]
    assert set(top["breakdown"]) == {
        "semantic",
        "skills",
        "title",
        "experience",
        "education",
        "location",
        "salary",
        "keyword",
    }
    for match in matches:
        assert 0 <= match["score"] <= 1
        assert contribution_total(match) == pytest.approx(match["score"], abs=0.002)
    assert top["score"] > 0.7
    assert all(m["score"] < top["score"] - 0.2 for m in matches[1:])


async def test_hard_mismatches_lower_the_score_and_say_so(api: Api) -> None:
    job = await api.create_job(
        "acme", title="Python后端开发工程师", city="深圳", salary_min=20000, salary_max=30000
    )
    local = await api.create_candidate("acme", name="Local", city="深圳", desired_salary_min=25000)
    elsewhere = await api.create_candidate(
        "acme", name="Elsewhere", city="北京", desired_salary_min=25000
    )
    pricey = await api.create_candidate(
        "acme", name="Pricey", city="深圳", desired_salary_min=60000
    )
    matches = {
        m["id"]: m
        for m in (await api.get(f"/v1/jobs/{job['id']}/matches", "acme")).json()["matches"]
    }
    assert matches[local["id"]]["hard_mismatches"] == []
    assert matches[elsewhere["id"]]["hard_mismatches"] == ["location"]
    assert matches[elsewhere["id"]]["breakdown"]["location"]["hard_mismatch"] is True
    assert "北京" in matches[elsewhere["id"]]["breakdown"]["location"]["detail"]
    assert matches[pricey["id"]]["hard_mismatches"] == ["salary"]
    # Identical otherwise, so each mismatch ranks the pair lower (the penalty scales the
    # evidence: tests/matching/test_scoring.py), and reasons say why in a sentence.
    assert matches[elsewhere["id"]]["score"] < matches[local["id"]]["score"]
    assert matches[pricey["id"]]["score"] < matches[local["id"]]["score"]
    assert (
        matches[elsewhere["id"]]["reasons"][0] == "On-site in Shenzhen; the candidate is in Beijing"
    )
    chinese = (await api.client.get(f"/v1/jobs/{job['id']}/matches",
                                    headers={**api.auth("acme"), "Accept-Language": "zh"})).json()  # fmt: skip
    lines = {m["id"]: m["reasons"] for m in chinese["matches"]}
    assert lines[elsewhere["id"]][0] == "职位需在深圳到岗，候选人在北京"


async def test_remote_jobs_have_no_location_mismatch(api: Api) -> None:
    job = await api.create_job("acme", title="Remote Python developer", remote=True)
    await api.create_candidate("acme", name="Far away", city="北京")
    match = (await api.get(f"/v1/jobs/{job['id']}/matches", "acme")).json()["matches"][0]
    assert match["hard_mismatches"] == []
    assert match["breakdown"]["location"]["score"] == 1.0


async def test_candidate_to_jobs_ranks_relevant_postings_first(api: Api) -> None:
    candidate = await api.create_candidate(
        "acme",
        desired_titles=["会计"],
        skills=["会计", "税务", "Excel"],
        summary="五年总账会计经验",
        city="东莞",
        desired_salary_min=9000,
        education={"level": "associate"},
        experience=[],
    )
    accountant = await api.create_job(
        "globex",
        title="Accountant",
        description="General ledger and tax filing.",
        required_skills=["Accounting", "Taxation"],
        city="东莞",
        district=None,
        salary_min=8000,
        salary_max=12000,
        education="associate",
        min_years_experience=2,
    )
    await api.create_job(
        "globex", title="机器学习工程师", required_skills=["机器学习"], city="深圳"
    )
    await api.create_job(
        "globex", title="中餐厨师", required_skills=["烹饪"], city="东莞", district=None
    )
    private_other = await api.create_job(
        "globex", title="会计 (private)", required_skills=["会计"], private=True
    )
    response = await api.get(
        f"/v1/candidates/{candidate['id']}/matches", "acme", params={"limit": 5}
    )
    assert response.status_code == 200
    matches = response.json()["matches"]
    assert matches[0]["id"] == accountant["id"]
    assert set(matches[0]["matched_skills"]) == {"Accounting", "Taxation"}
    assert private_other["id"] not in [m["id"] for m in matches]


async def test_match_limit_and_unknown_ids(api: Api) -> None:
    job = await api.create_job("acme")
    for n in range(4):
        await api.create_candidate("acme", name=f"P{n}")
    assert (
        len(
            (await api.get(f"/v1/jobs/{job['id']}/matches", "acme", params={"limit": 2})).json()[
                "matches"
            ]
        )
        == 2
    )
    assert (await api.get("/v1/jobs/999999/matches", "acme")).status_code == 404
    assert (await api.get("/v1/candidates/999999/matches", "acme")).status_code == 404
    assert (
        await api.get(f"/v1/jobs/{job['id']}/matches", "acme", params={"limit": 0})
    ).status_code == 422
