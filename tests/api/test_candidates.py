"""Candidate profiles: structured input, extraction from résumé text, upsert, delete."""

from __future__ import annotations

import pytest

from store.normalize import years_from_experience
from tests.conftest import Api, candidate_payload

pytestmark = pytest.mark.anyio

ZH_RESUME = """李娜
电话：139 1234 5678  邮箱：lina@example.com
现居地：深圳市福田区
求职意向：数据分析师
教育背景
2012.09 - 2016.06 中山大学 统计学 硕士
工作经历
2018.03 - 2021.02 某电商公司 数据分析师 使用SQL、Python、Tableau完成经营分析
2021.03 - 至今 某科技公司 高级数据分析师 负责数据仓库与机器学习建模
"""

EN_RESUME = """Daniel Wong
daniel.wong@example.com | +852 9123 4567 | Based in Guangzhou
Frontend developer with 6 years of experience building React and TypeScript apps.
EXPERIENCE
Jan 2019 - Present  Frontend Engineer, Acme: React, TypeScript, Node.js
Jul 2016 - Dec 2018  Web Developer, Foo Ltd: JS, HTML/CSS
EDUCATION
Bachelor of Engineering, South China University of Technology
"""


async def test_resume_text_alone_fills_profile_in_chinese(api: Api) -> None:
    created = await api.post("/v1/candidates", "acme", {"resume_text": ZH_RESUME})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["city"] == "深圳"
    assert body["education"]["level"] == "master"
    assert body["email"] == "lina@example.com"
    assert body["phone"] == "13912345678"
    assert {"SQL", "Python", "Tableau", "数据仓库", "机器学习"} <= set(body["skills"])
    # 2018-03 .. today, the school years excluded.
    assert body["years_experience"] >= 8
    assert "skills" in body["extracted_fields"]


async def test_resume_text_alone_fills_profile_in_english(api: Api) -> None:
    body = (await api.post("/v1/candidates", "acme", {"resume_text": EN_RESUME})).json()
    assert body["city"] == "广州"
    # The dated work periods (Jul 2016 to the present) count over the stated "6 years".
    assert body["years_experience"] == years_from_experience([{"start": "2016-07", "end": None}])
    assert body["education"]["level"] == "bachelor"
    assert body["name"] == "Daniel Wong"
    assert {"React", "TypeScript", "Node.js"} <= set(body["skills"])


async def test_given_fields_win_over_extraction(api: Api) -> None:
    body = (
        await api.post("/v1/candidates", "acme", {"resume_text": ZH_RESUME, "city": "上海"})
    ).json()
    assert body["city"] == "上海"
    assert "city" not in body["extracted_fields"]


async def test_years_are_computed_from_experience_dates_when_not_given(api: Api) -> None:
    payload = candidate_payload(
        years_experience=None,
        experience=[
            {"title": "A", "start": "2015-01", "end": "2017-12"},
            {"title": "B", "start": "2017-06", "end": "2019-12"},  # overlaps: counted once
        ],
    )
    body = (await api.post("/v1/candidates", "acme", payload)).json()
    assert body["years_experience"] == 5.0


async def test_upsert_by_external_id_and_delete_from_index(api: Api) -> None:
    first = await api.post("/v1/candidates", "acme", candidate_payload(external_id="c-1"))
    again = await api.post(
        "/v1/candidates", "acme", candidate_payload(external_id="c-1", name="王五")
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    candidate_id = first.json()["id"]
    found = await api.post("/v1/search/candidates", "acme", {"query": "Python", "mode": "keyword"})
    assert [h["id"] for h in found.json()["hits"]] == [candidate_id]
    assert (await api.delete(f"/v1/candidates/{candidate_id}", "acme")).status_code == 204
    gone = await api.post("/v1/search/candidates", "acme", {"query": "Python", "mode": "keyword"})
    assert gone.json()["total"] == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body"),
        (candidate_payload(email="not-an-email"), "email"),
        (candidate_payload(years_experience=-1), "years_experience"),
        (candidate_payload(education={"level": "genius"}), "education.level"),
        (candidate_payload(experience=[{"title": "A", "start": "2020-13"}]), "experience.0.start"),
        (
            candidate_payload(experience=[{"title": "A", "start": "2020-05", "end": "2019-01"}]),
            "experience.0",
        ),
        (candidate_payload(hobbies=["go"]), "hobbies"),
    ],
)
async def test_bad_candidate_input(api: Api, payload: dict, field: str) -> None:
    response = await api.post("/v1/candidates", "acme", payload)
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert (await api.get("/v1/candidates", "acme")).json()["total"] == 0
