"""A candidate query's protected terms (sex, age, marital status, childbearing, ethnicity,
hukou or origin, health) select no one: they are dropped from both retrievers, in every
query form, and reported under ``interpreted.ignored_terms``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

# Résumés that state the words a discriminating query would look for, in prose and tables.
RESUMES = [
    "性别 | 女 | 婚姻状况 | 已婚\n民族 | 汉族 | 户口 | 深圳本地户口\n"
    "求职意向：Java开发工程师\n技能：Java、Spring、MySQL\n五年 Java 后端开发，负责支付系统。",
    "男，未婚，32岁，籍贯：湖南\n求职意向：Java开发工程师\n技能：Java、Kafka\n"
    "三年 Java 开发经验，负责订单系统。",
    "Female, married, 29 years old, mother of two\nObjective: Java Developer\n"
    "Skills: Java, Spring Boot\nFour years of Java microservices at a payments company.",
    "求职意向：Java开发工程师\n技能：Java、Redis\n六年 Java 开发，负责风控平台。",
]


async def _search(api: Api, query: str, mode: str = "keyword") -> dict[str, Any]:
    response = await api.post("/v1/search/candidates", "acme",
                              {"query": query, "mode": mode, "page_size": 50})  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def _ids(found: dict[str, Any]) -> list[int]:
    return [hit["id"] for hit in found["hits"]]


@pytest.fixture
async def people(api: Api) -> list[int]:
    ids = []
    for i, text in enumerate(RESUMES):
        response = await api.post("/v1/candidates", "acme",
                                  {"resume_text": text, "email": f"p{i}@example.com"})  # fmt: skip
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_protected_words_alone_select_no_one(api: Api, people: list[int]) -> None:
    everyone = await _search(api, "")
    assert sorted(_ids(everyone)) == sorted(people)
    for query, ignored in [
        ("女 已婚", [("女", "sex"), ("已婚", "marital_status")]),
        ("35岁以下 汉族 本地户口", [("35岁以下", "age"), ("汉族", "ethnicity"),
                                  ("本地户口", "hukou_or_origin")]),
        ("female under 30 married", [("female", "sex"), ("under 30", "age"),
                                     ("married", "marital_status")]),
        ("未育 身体健康", [("未育", "childbearing"), ("身体健康", "health")]),
    ]:  # fmt: skip
        found = await _search(api, query)
        # The same answer as no query at all: nobody is found (or left out) for the words.
        assert _ids(found) == _ids(everyone), query
        terms = [(t["term"], t["reason"]) for t in found["interpreted"]["ignored_terms"]]
        assert terms == ignored


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
async def test_protected_terms_in_query_syntax_change_nothing(
    api: Api, people: list[int], mode: str
) -> None:
    plain = await _search(api, "Java", mode)
    assert len(plain["hits"]) == len(people)
    for query in ["Java 女", "Java 男性", "title:女 Java", '"已婚" Java', "Java AND 女",
                  "女 AND Java", "Java NOT 女", "Java -已婚", "(女 OR 男) AND Java",
                  "Java AND NOT 35岁以下", "Java female married"]:  # fmt: skip
        found = await _search(api, query, mode)
        assert _ids(found) == _ids(plain), query
        assert [h["score"] for h in found["hits"]] == [h["score"] for h in plain["hits"]], query
        assert found["interpreted"]["ignored_terms"], query
        # Nor are they marked in what the hits quote.
        marked = str([h["highlights"] for h in found["hits"]])
        for word in ("<em>女", "<em>男", "<em>已婚", "<em>female", "<em>married"):
            assert word not in marked, (query, marked)


async def test_other_words_are_still_searched(api: Api, people: list[int]) -> None:
    found = await _search(api, "Kafka 女装")  # 女装 is a product line, not a person's sex
    assert "ignored_terms" not in found["interpreted"]
    assert _ids(found) == [people[1]]
