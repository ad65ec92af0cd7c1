"""What a match says about itself: calibrated scores, skill evidence, missing skills, reasons
in the caller's language, the model version; blind mode on match and search."""

from __future__ import annotations

import pytest

from matching.explain import preferred_language
from tests.conftest import Api

pytestmark = pytest.mark.anyio


async def _job_and_people(api: Api) -> tuple[dict, dict, dict]:
    job = await api.create_job(
        "acme", title="Python后端开发工程师", required_skills=["Python", "Kafka", "MySQL"],
        preferred_skills=["Redis", "Docker"], min_years_experience=3, education="bachelor",
        city="深圳", salary_min=20000, salary_max=30000,
    )  # fmt: skip
    good = await api.create_candidate(
        "acme", name="李娜", desired_titles=["Python后端开发工程师"], skills=["Python", "MySQL", "Redis"],
        summary="李娜，女，六年 Python 后端开发经验。", years_experience=6, city="深圳",
        desired_salary_min=25000,
        experience=[{"title": "后端工程师", "company": "腾讯", "start": "2019-01", "end": "present",
                     "description": "负责订单系统，使用 MySQL 分库分表。电话 13912345678"}],
    )  # fmt: skip
    empty = await api.create_candidate(
        "acme", name="空白", desired_titles=[], skills=[], summary="", experience=[],
        years_experience=None, education=None, city=None, desired_salary_min=None,
    )  # fmt: skip
    return job, good, empty


async def test_match_explains_itself_in_english_and_chinese(api: Api) -> None:
    job, good, empty = await _job_and_people(api)
    url = f"/v1/jobs/{job['id']}/matches"
    english = (
        await api.client.get(url, headers={**api.auth("acme"), "Accept-Language": "en-US,en;q=0.9"})
    ).json()
    chinese = (
        await api.client.get(url, headers={**api.auth("acme"), "Accept-Language": "zh-CN,zh;q=0.9"})
    ).json()
    assert english["model_version"] == chinese["model_version"] != ""
    best = english["matches"][0]
    assert best["id"] == good["id"]
    assert best["missing_required_skills"] == ["Kafka"]
    assert best["missing_preferred_skills"] == ["Docker"]
    evidence = {e["skill"]: e for e in best["skill_evidence"]}
    assert evidence["MySQL"]["source"] == "experience[0]"
    assert "分库分表" in evidence["MySQL"]["text"]
    assert evidence["Python"]["source"] == "summary"
    assert any("2 of 3 required skills" in r for r in best["reasons"])
    assert any(r.startswith("Missing required skills: Kafka") for r in best["reasons"])
    zh_best = chinese["matches"][0]
    assert any("具备 3 项必备技能中的 2 项" in r for r in zh_best["reasons"])
    assert any("缺少必备技能：Kafka" in r for r in zh_best["reasons"])
    assert abs(sum(f["contribution"] for f in best["breakdown"].values()) - best["score"]) < 1e-3
    # An empty profile gives retrieval nothing to find: it is not offered as a match at all
    # (its score, near 0, is checked in tests/matching/test_scoring.py).
    assert empty["id"] not in {m["id"] for m in english["matches"]}
    assert best["score"] > 0.3


async def test_blind_mode_hides_identity_in_matches_and_search(api: Api) -> None:
    job, good, _ = await _job_and_people(api)
    blind = (
        await api.get(f"/v1/jobs/{job['id']}/matches", "acme", params={"blind": "true"})
    ).json()
    assert blind["blind"] is True
    [match] = [m for m in blind["matches"] if m["id"] == good["id"]]
    person = match["candidate"]
    assert person["name"] is None and person["email"] is None and person["phone"] is None
    flat = str(match)
    for secret in ("李娜", "13912345678", "女"):
        assert secret not in flat
    search = await api.post("/v1/search/candidates?blind=true", "acme", {"query": "Python 后端"})
    assert search.status_code == 200
    hits = search.json()["hits"]
    assert hits and all(h["candidate"]["name"] is None for h in hits)
    assert "李娜" not in str(hits) and "13912345678" not in str(hits)
    seen = (await api.post("/v1/search/candidates", "acme", {"query": "Python 后端"})).json()
    assert any(h["candidate"]["name"] == "李娜" for h in seen["hits"])


def test_accept_language_parsing() -> None:
    assert preferred_language(None) == "en"
    assert preferred_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert preferred_language("en;q=0.5, zh-TW;q=0.8") == "zh"
    assert preferred_language("fr-FR, en-GB;q=0.7") == "en"
    assert preferred_language("de") == "en"
