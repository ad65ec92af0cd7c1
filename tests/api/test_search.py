"""Hybrid search: relevance on a small hand-labelled fixture, filters, recency, highlights."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

# A hand-labelled fixture: (key, posting). Relevance judgements are in the tests below.
POSTINGS: list[tuple[str, dict[str, Any]]] = [
    (
        "ml_zh",
        {
            "title": "机器学习算法工程师",
            "description": "负责推荐算法与深度学习模型的研发，熟悉PyTorch。",
            "required_skills": ["机器学习", "Python", "PyTorch"],
            "city": "深圳",
            "district": "南山",
            "salary_min": 30000,
            "salary_max": 50000,
            "education": "master",
            "min_years_experience": 3,
            "language": "zh",
            "posted_at": "2026-10-20T08:00:00Z",
        },
    ),
    (
        "ml_en",
        {
            "title": "Machine Learning Engineer",
            "description": "Build deep learning models for recommendation and search.",
            "required_skills": ["Machine learning", "Python", "TensorFlow"],
            "city": "深圳",
            "district": "福田",
            "salary_min": 35000,
            "salary_max": 60000,
            "education": "master",
            "min_years_experience": 5,
            "language": "en",
            "posted_at": "2026-10-21T08:00:00Z",
        },
    ),
    (
        "backend_zh",
        {
            "title": "Java后端开发工程师",
            "description": "负责高并发微服务系统开发，熟悉Spring Boot与MySQL。",
            "required_skills": ["Java", "Spring Boot", "MySQL"],
            "city": "深圳",
            "district": "南山",
            "salary_min": 20000,
            "salary_max": 35000,
            "education": "bachelor",
            "min_years_experience": 3,
            "language": "zh",
            "posted_at": "2026-10-22T08:00:00Z",
        },
    ),
    (
        "frontend_en",
        {
            "title": "Frontend Developer",
            "description": "Build React and TypeScript web apps.",
            "required_skills": ["JS", "React", "TypeScript"],
            "city": "广州",
            "district": "天河",
            "salary_min": 15000,
            "salary_max": 25000,
            "education": "associate",
            "min_years_experience": 1,
            "language": "en",
            "employment_type": "full_time",
            "posted_at": "2026-10-23T08:00:00Z",
        },
    ),
    (
        "accountant_zh",
        {
            "title": "总账会计",
            "description": "负责账务处理、纳税申报，熟练使用金蝶。",
            "required_skills": ["会计", "税务", "金蝶"],
            "city": "东莞",
            "district": None,
            "salary_min": 8000,
            "salary_max": 12000,
            "education": "associate",
            "min_years_experience": 2,
            "language": "zh",
            "posted_at": "2026-10-24T08:00:00Z",
        },
    ),
    (
        "chef_zh",
        {
            "title": "中餐厨师",
            "description": "负责粤菜制作，保证出品质量与食品安全。",
            "required_skills": ["烹饪"],
            "city": "深圳",
            "district": "宝安",
            "salary_min": 7000,
            "salary_max": 10000,
            "education": "none",
            "min_years_experience": 0,
            "language": "zh",
            "posted_at": "2026-10-25T08:00:00Z",
        },
    ),
    (
        "warehouse_en",
        {
            "title": "Warehouse Keeper (Forklift)",
            "description": "Receive and issue stock, operate a forklift.",
            "required_skills": ["Forklift operation", "Warehouse management"],
            "city": "深圳",
            "district": "龙岗",
            "salary_min": 6000,
            "salary_max": 8000,
            "education": "high_school",
            "employment_type": "dispatch",
            "min_years_experience": 0,
            "preferred_skills": [],
            "language": "en",
            "posted_at": "2026-10-26T08:00:00Z",
        },
    ),
    (
        "intern_en",
        {
            "title": "Data Analyst Intern",
            "description": "SQL and Excel reporting for the sales team.",
            "required_skills": ["SQL", "Excel"],
            "preferred_skills": ["Tableau"],
            "city": "深圳",
            "district": "南山",
            "salary_min": 4000,
            "salary_max": 6000,
            "education": "bachelor",
            "employment_type": "internship",
            "min_years_experience": 0,
            "language": "en",
            "posted_at": "2026-10-27T08:00:00Z",
        },
    ),
]
UNRELATED_TO_ML = {"accountant_zh", "chef_zh", "warehouse_en"}


@pytest.fixture
async def corpus(api: Api) -> dict[int, str]:
    ids = {}
    for key, fields in POSTINGS:
        job = await api.create_job("acme", **fields)
        ids[job["id"]] = key
    return ids


async def keys_for(api: Api, corpus: dict[int, str], query: str = "", **body: Any) -> list[str]:
    result = await api.search_jobs("globex", query, page_size=50, **body)
    return [corpus[h["id"]] for h in result["hits"]]


def rank_of(keys: list[str], key: str) -> int:
    return keys.index(key) if key in keys else 10_000


async def test_chinese_query_ranks_chinese_and_english_ml_postings_above_unrelated(
    api: Api, corpus: dict[int, str]
) -> None:
    keys = await keys_for(api, corpus, "机器学习")
    assert keys[:2] == ["ml_zh", "ml_en"] or keys[:2] == ["ml_en", "ml_zh"]
    worst_relevant = max(rank_of(keys, "ml_zh"), rank_of(keys, "ml_en"))
    assert all(rank_of(keys, k) > worst_relevant for k in UNRELATED_TO_ML)


async def test_english_query_finds_the_chinese_posting_too(
    api: Api, corpus: dict[int, str]
) -> None:
    keys = await keys_for(api, corpus, "machine learning engineer")
    assert set(keys[:2]) == {"ml_zh", "ml_en"}


async def test_mixed_query_with_a_city_filters_by_that_city(
    api: Api, corpus: dict[int, str]
) -> None:
    result = await api.search_jobs("globex", "Java 后端 深圳")
    keys = [corpus[h["id"]] for h in result["hits"]]
    assert result["interpreted"] == {"city": ["深圳"]}
    assert keys[0] == "backend_zh"
    assert "frontend_en" not in keys and "accountant_zh" not in keys  # Guangzhou, Dongguan


async def test_synonym_in_query_matches_canonical_skill_filter(
    api: Api, corpus: dict[int, str]
) -> None:
    # "JavaScript" in the filter meets the posting's "JS".
    keys = await keys_for(api, corpus, filters={"skills_any": ["JavaScript"]})
    assert keys == ["frontend_en"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"city": "Shenzhen"},
            {"ml_zh", "ml_en", "backend_zh", "chef_zh", "warehouse_en", "intern_en"},
        ),
        ({"city": ["广州", "东莞"]}, {"frontend_en", "accountant_zh"}),
        ({"city": "深圳", "district": "南山"}, {"ml_zh", "backend_zh", "intern_en"}),
        ({"salary_min": 30000}, {"ml_zh", "ml_en", "backend_zh"}),  # ranges overlap 30k+
        ({"salary_min": 9000, "salary_max": 11000}, {"accountant_zh", "chef_zh"}),
        ({"employment_type": "internship"}, {"intern_en"}),
        ({"employment_type": ["dispatch", "internship"]}, {"warehouse_en", "intern_en"}),
        (
            {"education": {"at_most": "associate"}},
            {"frontend_en", "accountant_zh", "chef_zh", "warehouse_en"},
        ),
        ({"education": {"at_least": "master"}}, {"ml_zh", "ml_en"}),
        ({"years_experience": {"min": 3, "max": 4}}, {"ml_zh", "backend_zh"}),
        ({"skills_all": ["python", "机器学习"]}, {"ml_zh", "ml_en"}),
        ({"skills_any": ["金蝶", "Forklift operation"]}, {"accountant_zh", "warehouse_en"}),
    ],
)
async def test_filters_on_an_empty_query(
    api: Api, corpus: dict[int, str], filters: dict, expected: set[str]
) -> None:
    keys = await keys_for(api, corpus, filters=filters)
    assert set(keys) == expected


async def test_filters_apply_inside_retrieval_for_text_queries(
    api: Api, corpus: dict[int, str]
) -> None:
    # The only Guangzhou posting is frontend; an ML query filtered to Guangzhou must not
    # fall back to ML postings elsewhere, and may return the frontend one or nothing.
    keys = await keys_for(api, corpus, "machine learning", filters={"city": "广州"})
    assert set(keys) <= {"frontend_en"}
    keys = await keys_for(
        api, corpus, "Python", filters={"education": {"at_least": "master"}, "city": "深圳"}
    )
    assert set(keys) == {"ml_zh", "ml_en"}


async def test_empty_query_lists_newest_first_with_paging(api: Api, corpus: dict[int, str]) -> None:
    first = await api.search_jobs("globex", "", page=1, page_size=3)
    second = await api.search_jobs("globex", "", page=2, page_size=3)
    assert first["total"] == len(POSTINGS)
    ordered = [corpus[h["id"]] for h in first["hits"] + second["hits"]]
    assert ordered == [
        "intern_en",
        "warehouse_en",
        "chef_zh",
        "accountant_zh",
        "frontend_en",
        "backend_zh",
    ]


async def test_hits_carry_highlights_and_the_object(api: Api, corpus: dict[int, str]) -> None:
    result = await api.search_jobs("globex", "React TypeScript")
    top = result["hits"][0]
    assert corpus[top["id"]] == "frontend_en"
    assert top["job"]["id"] == top["id"] and "external_id" in top["job"]
    assert any("<em>React</em>" in s for s in top["highlights"]["description"])
    assert 0 < top["score"] <= 1


async def test_highlights_escape_html(api: Api) -> None:
    await api.create_job("acme", title="Python <script>alert(1)</script> dev")
    result = await api.search_jobs("acme", "Python")
    title = result["hits"][0]["highlights"]["title"][0]
    assert "<script>" not in title and "&lt;script&gt;" in title


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "x", "filters": {"city": "Atlantis"}}, "filters.city"),
        ({"query": "x", "filters": {"district": "南山"}}, "filters.district"),
        ({"query": "x", "filters": {"salary_min": 5, "salary_max": 1}}, "filters.salary_min"),
        (
            {"query": "x", "filters": {"education": {"at_least": "phd-ish"}}},
            "filters.education.at_least",
        ),
        ({"query": "x", "page_size": 1000}, "page_size"),
        ({"query": "x", "filters": {"colour": "red"}}, "filters.colour"),
    ],
)
async def test_bad_search_requests(api: Api, body: dict, field: str) -> None:
    response = await api.post("/v1/search/jobs", "acme", body)
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["error"]["details"]]


async def test_query_syntax_is_just_text(api: Api, corpus: dict[int, str]) -> None:
    for query in [
        'title:"x" OR 1=1',
        "*:*",
        "python AND NOT java~2",
        "' DROP TABLE jobs; --",
    ]:
        response = await api.post("/v1/search/jobs", "globex", {"query": query})
        assert response.status_code == 200
    # Malformed syntax is refused, naming the query (tests/api/test_search_syntax.py).
    response = await api.post("/v1/search/jobs", "globex", {"query": "(((("})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["query"]
    assert (await api.get("/v1/jobs", "acme")).json()["total"] == len(POSTINGS)


ALL_FACETS = ["city", "district", "employment_type", "education", "salary", "company"]


def _filter_for(facet: str, value: dict[str, Any]) -> dict[str, Any]:
    """The search filter that selects one facet value, as a client (the widget) builds it."""
    if facet == "salary":
        return {"salary_min": value["min"], "salary_max": value["max"]}
    if facet == "education":
        return {"education": {"at_least": value["value"], "at_most": value["value"]}}
    if facet == "district":
        return {"city": value["city"], "district": value["value"]}
    return {facet: value["value"]}


async def test_facet_counts_agree_with_their_filters(api: Api, corpus: dict[int, str]) -> None:
    await api.create_job("acme", title="会计", company="华南会计师事务所", city="广州")
    for query in ["", "engineer 工程师"]:
        result = await api.search_jobs("globex", query, facets=ALL_FACETS, page_size=1)
        assert set(result["facets"]) == set(ALL_FACETS)
        assert len(result["hits"]) == 1  # counts cover the whole result, not the page
        for facet, values in result["facets"].items():
            assert values, facet
            for value in values:
                selected = await api.search_jobs(
                    "globex", query, filters=_filter_for(facet, value), page_size=1
                )
                assert selected["total"] == value["count"], (query, facet, value)


async def test_facets_are_labelled_in_the_callers_language(
    api: Api, corpus: dict[int, str]
) -> None:
    body = {"query": "", "facets": ["city", "employment_type", "education", "salary"]}
    zh = await api.client.post("/v1/search/jobs", json=body,
                               headers={**api.auth("globex"), "Accept-Language": "zh-CN,zh;q=0.9"})  # fmt: skip
    en = await api.client.post("/v1/search/jobs", json=body,
                               headers={**api.auth("globex"), "Accept-Language": "en-US"})  # fmt: skip
    zh_facets, en_facets = zh.json()["facets"], en.json()["facets"]
    assert zh_facets["city"][0] == {"value": "深圳", "label": "深圳", "count": 6,
                                    "min": None, "max": None, "city": None}  # fmt: skip
    assert en_facets["city"][0]["label"] == "Shenzhen" and en_facets["city"][0]["value"] == "深圳"
    assert {v["label"] for v in zh_facets["employment_type"]} >= {"全职", "实习", "劳务派遣"}
    assert {v["label"] for v in en_facets["employment_type"]} >= {"Full-time", "Internship"}
    # Education in order of level, salary bands in order of pay.
    levels = [v["value"] for v in en_facets["education"]]
    assert levels == sorted(levels, key=["none", "high_school", "associate", "bachelor",
                                         "master", "doctorate"].index)  # fmt: skip
    lows = [v["min"] for v in en_facets["salary"]]
    assert lows == sorted(lows) and en_facets["salary"][0]["label"].endswith("K")


async def test_a_facet_ignores_its_own_filter(api: Api, corpus: dict[int, str]) -> None:
    result = await api.search_jobs(
        "globex", "", filters={"city": "深圳"}, facets=["city", "employment_type"]
    )
    assert result["total"] == 6
    cities = {v["value"]: v["count"] for v in result["facets"]["city"]}
    assert cities == {"深圳": 6, "广州": 1, "东莞": 1}
    assert sum(v["count"] for v in result["facets"]["employment_type"]) == 6


async def test_company_filter_and_facet_requests(api: Api, corpus: dict[int, str]) -> None:
    await api.create_job("acme", title="Python 工程师", company="华为")
    only = await api.search_jobs("globex", "", filters={"company": ["华为"]})
    assert [h["job"]["company"] for h in only["hits"]] == ["华为"]
    refused = await api.post("/v1/search/candidates", "acme", {"query": "x", "facets": ["city"]})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "facets"
    unknown = await api.post("/v1/search/jobs", "acme", {"query": "x", "facets": ["colour"]})
    assert unknown.status_code == 422 and "facets" in unknown.json()["error"]["details"][0]["field"]
