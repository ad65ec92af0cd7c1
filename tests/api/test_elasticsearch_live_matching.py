"""Matching on a live Elasticsearch cluster gives what it gives on the embedded backend, within
a stated tolerance: set ``TALENTMATCH_TEST_ES_URL`` (and ``TALENTMATCH_TEST_ES_API_KEY`` when
security is on). One database, served first by the embedded backend and then by the cluster
(which start-up recovery fills from the database); both rank every posting's candidates and
every candidate's postings.

Tolerance: the two engines differ only in retrieval (int8-quantized HNSW in the cluster,
float HNSW or an exact scan here; vectors for scoring come from the database on both), so
the top 10 overlap by at least 0.8 on average and a pair both rank scores within 0.02."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from core.settings import SearchSettings, Settings
from tests.conftest import Api

ES_URL = os.environ.get("TALENTMATCH_TEST_ES_URL")
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not ES_URL, reason="no live Elasticsearch: set TALENTMATCH_TEST_ES_URL"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Both runs read vectors from the database, so only retrieval differs."""
    return settings.model_copy(
        update={"search": settings.search.model_copy(update={"vectors": "database"})}
    )


def cluster_settings(settings: Settings, prefix: str) -> Settings:
    group: dict[str, Any] = {"url": ES_URL, "index_prefix": prefix, "number_of_replicas": 0}
    if api_key := os.environ.get("TALENTMATCH_TEST_ES_API_KEY"):
        group["api_key"] = api_key
    search = SearchSettings.model_validate(
        settings.search.model_dump() | {"backend": "elasticsearch", "elasticsearch": group}
    )
    return settings.model_copy(update={"search": search})


async def match_lists(api: Api, job_ids: list[int], person_ids: list[int]) -> dict[str, Any]:
    lists: dict[str, Any] = {}
    for path in [f"/v1/jobs/{i}/matches" for i in job_ids] + [
        f"/v1/candidates/{i}/matches" for i in person_ids
    ]:
        response = await api.get(path, "acme", params={"limit": 10})
        assert response.status_code == 200, response.text
        lists[path] = {m["id"]: m["score"] for m in response.json()["matches"]}
    return lists


async def test_matching_on_the_cluster_agrees_with_the_embedded_backend(
    api: Api, app_factory: Callable[..., Any], settings: Settings
) -> None:
    titles = ["Python后端开发工程师", "Java架构师", "会计", "Data Engineer", "前端开发", "销售经理"]
    job_ids = [(await api.create_job("acme", title=t))["id"] for t in titles]
    people = [
        {"desired_titles": ["后端工程师"], "skills": ["Python"]},
        {"desired_titles": ["Java Developer"], "skills": ["Java", "Spring"]},
        {"desired_titles": ["会计"], "skills": ["财务分析"]},
        {"desired_titles": ["Frontend Engineer"], "skills": ["React"]},
        {"desired_titles": ["销售"], "skills": ["客户关系"]},
    ]
    person_ids = [(await api.create_candidate("acme", **p))["id"] for p in people]
    embedded = await match_lists(api, job_ids, person_ids)

    prefix = f"tm-test-{uuid.uuid4().hex[:12]}"
    es_settings = cluster_settings(settings, prefix)
    app = app_factory(settings=es_settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                cluster = await match_lists(Api(client, es_settings, app), job_ids, person_ids)
    finally:
        from search_index.elasticsearch import create_client

        es = create_client(es_settings.search.elasticsearch)
        found = es.indices.get_alias(index=f"{prefix}-*", ignore_unavailable=True)
        for name in found.body:
            es.indices.delete(index=name, ignore_unavailable=True)
        es.close()

    overlaps = []
    for path, ranked in embedded.items():
        other = cluster[path]
        size = max(len(ranked), len(other))
        overlaps.append(len(ranked.keys() & other.keys()) / size if size else 1.0)
        for entity_id in ranked.keys() & other.keys():
            assert abs(ranked[entity_id] - other[entity_id]) <= 0.02, (path, entity_id)
    assert sum(overlaps) / len(overlaps) >= 0.8, overlaps
