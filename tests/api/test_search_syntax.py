"""The query syntax recruiters type (AND, OR, NOT, -term, "phrase", title:/skill:/company:)
through the search API, in keyword and hybrid modes, for postings and candidates."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

POSTINGS: list[tuple[str, dict[str, Any]]] = [
    (
        "outsourced",
        {
            "title": "Java开发工程师（外包）",
            "description": "外包项目驻场，Java Spring 微服务开发，Spring Boot。",
            "required_skills": ["Java", "Spring Boot"],
            "company": "某外包服务公司",
        },
    ),
    (
        "java_spring",
        {
            "title": "Java后端工程师",
            "description": "负责 Spring Boot 微服务开发与维护。",
            "required_skills": ["Java", "Spring Boot"],
            "company": "华为",
        },
    ),
    (
        "java_only",
        {
            "title": "Java桌面应用工程师",
            "description": "负责 Swing 桌面客户端开发。",
            "required_skills": ["Java"],
            "company": "某软件公司",
        },
    ),
    (
        "spring_cloud",
        {
            "title": "微服务架构师",
            "description": "精通 Spring Cloud 与 Java，设计服务治理方案。",
            "required_skills": ["Java", "Spring Cloud"],
            "company": "腾讯",
        },
    ),
    (
        "spring_and_cloud_apart",
        {
            "title": "Java开发",
            "description": "使用 Spring 开发后台，部署在 cloud 平台上。",
            "required_skills": ["Java"],
            "company": "阿里巴巴",
        },
    ),
    (
        "frontend",
        {
            "title": "前端工程师",
            "description": "React 与 TypeScript 开发，和华为等客户的架构师沟通需求。",
            "required_skills": ["JavaScript", "React"],
            "company": "字节跳动",
        },
    ),
]
QUERY = "Java AND (Spring OR 微服务) NOT 外包"


@pytest.fixture
async def corpus(api: Api) -> dict[int, str]:
    ids = {}
    for key, fields in POSTINGS:
        job = await api.create_job("acme", **fields)
        ids[job["id"]] = key
    return ids


async def keys_for(api: Api, corpus: dict[int, str], query: str, mode: str) -> list[str]:
    result = await api.search_jobs("globex", query, mode=mode, page_size=50)
    return [corpus[h["id"]] for h in result["hits"]]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
async def test_not_drops_the_excluded_posting_and_and_requires_both_sides(
    api: Api, corpus: dict[int, str], mode: str
) -> None:
    keys = await keys_for(api, corpus, QUERY, mode)
    assert "outsourced" not in keys
    assert keys[0] in {"java_spring", "spring_cloud"}
    if mode == "keyword":
        # Java alone, or neither Spring nor 微服务: not a match.
        assert set(keys) == {"java_spring", "spring_cloud", "spring_and_cloud_apart"}


async def test_minus_term_drops_semantic_neighbours_that_contain_it(
    api: Api, corpus: dict[int, str]
) -> None:
    plain = await keys_for(api, corpus, "Java 微服务 开发", "semantic")
    assert "outsourced" in plain  # a close neighbour by meaning
    result = await api.search_jobs("globex", "Java 微服务 开发 -外包", page_size=50)
    assert result["hits"]
    for hit in result["hits"]:
        job = hit["job"]
        assert "外包" not in job["title"] + job["description"]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
async def test_a_phrase_matches_the_phrase(api: Api, corpus: dict[int, str], mode: str) -> None:
    keys = await keys_for(api, corpus, '"Spring Cloud"', mode)
    assert keys[0] == "spring_cloud"
    if mode == "keyword":
        assert keys == ["spring_cloud"]  # Spring and cloud apart is no phrase match


async def test_field_prefixes(api: Api, corpus: dict[int, str]) -> None:
    # 架构师 is in frontend's description only; title: reads titles.
    assert await keys_for(api, corpus, "title:架构师", "keyword") == ["spring_cloud"]
    # 华为 is frontend's text but java_spring's company.
    assert await keys_for(api, corpus, "company:华为", "keyword") == ["java_spring"]
    # A synonym finds the canonical skill (JS → javascript), never a word in the text.
    assert await keys_for(api, corpus, "skill:JS", "keyword") == ["frontend"]
    both = await keys_for(api, corpus, "skill:java AND title:架构师", "keyword")
    assert both == ["spring_cloud"]


async def test_lowercase_operators_are_words(api: Api, corpus: dict[int, str]) -> None:
    words = await keys_for(api, corpus, "spring and cloud or react", "keyword")
    assert set(words) == {
        "outsourced", "java_spring", "spring_cloud", "spring_and_cloud_apart", "frontend",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("(Java AND Spring", 0),
        ("Java) OR Go", 4),
        ('"Spring Cloud', 0),
        ("Java AND", 5),
        ("OR Java", 0),
        ("Java NOT", 5),
        ("title:", 0),
        ("Java AND OR Go", 5),
    ],
)
@pytest.mark.parametrize("kind", ["jobs", "candidates"])
async def test_malformed_syntax_is_a_422_naming_query_with_the_position(
    api: Api, query: str, position: int, kind: str
) -> None:
    response = await api.post(f"/v1/search/{kind}", "acme", {"query": query})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"]
    details = error["details"]
    assert [d["field"] for d in details] == ["query"]
    assert details[0]["position"] == position


async def test_candidate_search_syntax(api: Api) -> None:
    people = {
        "java_outsourced": {
            "desired_titles": ["Java开发工程师"],
            "skills": ["Java", "Spring Boot"],
            "summary": "三年外包项目经验，Spring Cloud 微服务。",
        },
        "java": {
            "desired_titles": ["Java后端工程师"],
            "skills": ["Java", "Spring Boot"],
            "summary": "五年 Spring Boot 微服务开发，服务华为。",
        },
        "python": {
            "desired_titles": ["Python工程师"],
            "skills": ["Python", "Django"],
            "summary": "Django 网站开发。",
        },
    }
    ids = {}
    for key, fields in people.items():
        ids[(await api.create_candidate("acme", **fields))["id"]] = key

    async def keys(query: str, mode: str) -> list[str]:
        body = {"query": query, "mode": mode, "page_size": 50}
        response = await api.post("/v1/search/candidates", "acme", body)
        assert response.status_code == 200, response.text
        return [ids[h["id"]] for h in response.json()["hits"]]

    for mode in ("keyword", "hybrid"):
        found = await keys(QUERY, mode)
        assert "java_outsourced" not in found
        assert found[0] == "java"
    assert await keys('"Spring Cloud"', "keyword") == ["java_outsourced"]
    assert set(await keys("skill:django OR title:java -外包", "keyword")) == {"java", "python"}
    # A candidate's employers are in the text: company: matches them there.
    assert await keys("company:华为", "keyword") == ["java"]


async def test_highlights_mark_the_searched_words_not_the_syntax(
    api: Api, corpus: dict[int, str]
) -> None:
    await api.create_job("acme", title="Title designer", description="Not a title for everyone.")
    result = await api.search_jobs("globex", "title:designer AND NOT java", mode="keyword")
    [hit] = result["hits"]
    marked = " ".join(s for snippets in hit["highlights"].values() for s in snippets)
    assert "<em>designer</em>" in marked.lower()
    assert "<em>title</em>" not in marked.lower() and "<em>not</em>" not in marked.lower()
