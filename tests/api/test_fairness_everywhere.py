"""Protected attributes reach no signal in any layout (table cells, a cell per line, labelled
lines, prose), and blind mode shows them nowhere: search hits, highlights, matches."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

WORK = (
    "求职意向：Java开发工程师\n现居地：深圳\n技能：Java、Spring、MySQL、Kafka\n"
    "工作经历\n2018.07 - 至今 某支付公司 Java开发工程师 负责支付清结算系统的 Java 微服务开发。"
)
# One person, four ways of writing the same protected facts (and one without them).
LAYOUTS = {
    "table row": "性别 | 女 | 出生年月 | 1992.05\n婚姻状况 | 已婚 | 民族 | 汉族\n" + WORK,
    "cell per line": "性别\n女\n出生年月\n1992.05\n婚姻状况\n已婚已育\n" + WORK,
    "labelled": "性别：女  出生年月：1992.05  婚姻状况：已婚  民族：汉族\n" + WORK,
    "prose": WORK + "\n目前怀孕中，有两个孩子，丈夫在深圳工作。",
    "none": WORK,
}
ENGLISH = (
    "Objective: Java Developer\nSkills: Java, Spring, MySQL, Kafka\n"
    "Mother of two, my husband works in Shenzhen. Currently pregnant.\n"
    "Gender\nFemale\nDate of birth\n1992-05-02\n"
    "2018-07 - Present Java Developer at a payments company: she built the Java settlement services."
)
PROTECTED = ("女", "1992", "已婚", "已育", "汉族", "怀孕", "孩子", "丈夫", "Mother", "husband",
             "pregnant", "Female", "she ")  # fmt: skip


async def _post(api: Api, tenant: str, text: str, n: int) -> dict[str, Any]:
    response = await api.post("/v1/candidates", tenant,
                              {"resume_text": text, "email": f"fe{n}@example.com"})  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_layout_of_protected_facts_moves_no_factor(api: Api) -> None:
    job = await api.create_job("employer", title="Java开发工程师", description="Java 微服务开发",
                               required_skills=["Java", "Spring", "Kafka"], min_years_experience=None,
                               education=None, salary_min=None, salary_max=None)  # fmt: skip
    results = {}
    for n, (layout, text) in enumerate(LAYOUTS.items()):
        tenant = f"agency{n}"
        # A denser keyword hit in every tenant: keyword relevance is relative to the best hit.
        await api.create_candidate(tenant, desired_titles=["Java开发工程师"], skills=["Java", "Kafka"],
                                   summary="Java开发工程师 Java Spring Kafka")  # fmt: skip
        person = await _post(api, tenant, text, n)
        ranked = (await api.get(f"/v1/jobs/{job['id']}/matches", tenant)).json()["matches"]
        [mine] = [m for m in ranked if m["id"] == person["id"]]
        results[layout] = mine
    reference = results["none"]
    for layout, match in results.items():
        for factor in ("semantic", "title", "skills", "keyword"):
            assert match["breakdown"][factor]["score"] == pytest.approx(
                reference["breakdown"][factor]["score"], abs=0.002
            ), (layout, factor)
        assert match["score"] == pytest.approx(reference["score"], abs=0.002), layout


async def test_keyword_index_holds_no_table_cell_of_a_protected_fact(api: Api) -> None:
    people = [await _post(api, "acme", text, n) for n, text in enumerate(LAYOUTS.values())]
    for query in ("1992.05", "出生年月"):
        found = (await api.post("/v1/search/candidates", "acme",
                                {"query": query, "mode": "keyword"})).json()  # fmt: skip
        assert found["hits"] == [], query
    java = (await api.post("/v1/search/candidates", "acme",
                           {"query": "清结算", "mode": "keyword"})).json()  # fmt: skip
    assert sorted(h["id"] for h in java["hits"]) == sorted(p["id"] for p in people)


async def test_blind_mode_shows_protected_facts_nowhere(api: Api) -> None:
    zh = await _post(
        api, "acme", LAYOUTS["table row"] + "\n目前怀孕中，有两个孩子，丈夫在深圳工作。", 1
    )
    en = await _post(api, "acme", ENGLISH, 2)
    job = await api.create_job("acme", title="Java开发工程师", required_skills=["Java", "Kafka"])
    responses = []
    for query in ("Java 清结算 settlement", "Java"):
        response = await api.post("/v1/search/candidates?blind=true", "acme",
                                  {"query": query, "page_size": 10})  # fmt: skip
        assert response.status_code == 200
        assert {h["id"] for h in response.json()["hits"]} == {zh["id"], en["id"]}
        responses.append(response.json())
    ranked = await api.get(f"/v1/jobs/{job['id']}/matches?blind=true", "acme")
    assert {m["id"] for m in ranked.json()["matches"]} >= {zh["id"], en["id"]}
    responses.append(ranked.json())
    for person in (zh, en):
        responses.append((await api.get(f"/v1/candidates/{person['id']}/matches?blind=true",
                                        "acme")).json())  # fmt: skip
    # Highlights quote the work (so they are there to leak), and nothing protected.
    quoted = str(responses[0]["hits"][0]["highlights"]) + str(responses[0]["hits"][1]["highlights"])
    assert "结算" in quoted.replace("<em>", "").replace("</em>", "")
    shown = str(responses)

    for word in PROTECTED:
        assert word not in shown, word
    # Not blind: the recruiter's own profile view still has the résumé as written.
    full = (await api.get(f"/v1/candidates/{zh['id']}", "acme")).json()
    assert "怀孕" in full["resume_text"]
