"""The search route builds its response once: no second validation of the returned page
and no thread-pool hop for it, with the page's JSON byte for byte what it was (pinned on a
fixed corpus, in a file written by the route before the change)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from pydantic import TypeAdapter

from api.schemas import JobSearchResponse
from tests.conftest import Api

pytestmark = pytest.mark.anyio

# Regenerate with TALENTMATCH_REPIN_PAGES=1 only for an intended change of ranking or content
# (re-ranking weights, occupation coding), never for a change of how the page is built.
PINNED = Path(__file__).with_name("search_page_pinned.json")


def normalized(page: Any) -> Any:
    """The page with its clock readings (``*_at``) blanked: all else is fixed by the corpus."""
    if isinstance(page, dict):
        return {k: "<time>" if k.endswith("_at") and v else normalized(v) for k, v in page.items()}
    if isinstance(page, list):
        return [normalized(v) for v in page]
    return page


async def fixed_corpus(api: Api) -> None:
    """Postings of two tenants: a near-duplicate pair, a private one, contacts in a text,
    English and Chinese."""
    await api.create_job("acme", external_id="a-1", posted_at="2026-11-01T09:00:00Z",
                         description="负责后端服务开发，熟悉Python和MySQL。简历请发 hr@acme.example")  # fmt: skip
    await api.create_job("globex", external_id="g-1", posted_at="2026-11-02T09:00:00Z",
                         description="负责后端服务开发，熟悉Python和MySQL。简历请发 hr@acme.example")  # fmt: skip
    await api.create_job("globex", title="Java开发工程师", external_id="g-2", city="广州",
                         description="Spring Cloud 微服务，联系电话 13800138000")  # fmt: skip
    await api.create_job("globex", title="Python数据分析师", external_id="g-3", private=True)
    await api.create_job("acme", title="Backend Engineer (Python)", external_id="a-2",
                         description="Build services in Python and Go.", language="en",
                         salary_min=30000, salary_max=50000)  # fmt: skip
    await api.create_job("acme", title="会计", external_id="a-3", required_skills=["Excel"],
                         description="负责公司账务处理。", salary_min=8000, salary_max=12000)  # fmt: skip


REQUESTS: list[dict[str, Any]] = [
    {"query": "Python 后端 开发", "page_size": 10, "facets": ["city", "salary", "company"]},
    {"query": "Python", "mode": "keyword", "include_duplicates": True, "page_size": 3, "page": 2},
    {"query": "", "page_size": 10, "filters": {"city": "深圳"}},
]


async def pages(api: Api) -> list[Any]:
    reader = api.new_key("globex", "agency", scopes=["jobs:read"])  # no contact scope
    found = []
    for body in REQUESTS:
        for headers in (api.auth("acme"), {"Authorization": f"Bearer {reader}"}):
            response = await api.client.post(
                "/v1/search/jobs", json=body, headers={**headers, "Accept-Language": "zh"}
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            # What FastAPI's response model would have written for this page, byte for byte.
            adapter = TypeAdapter(JobSearchResponse)
            assert adapter.dump_json(adapter.validate_json(response.content)) == response.content
            found.append(normalized(response.json()))
    return found


async def test_search_pages_read_as_they_did(api: Api) -> None:
    await fixed_corpus(api)
    found = await pages(api)
    if os.environ.get("TALENTMATCH_REPIN_PAGES"):
        PINNED.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n")
    assert found == json.loads(PINNED.read_text())


async def test_a_search_hops_threads_for_the_key_lookup_and_the_route_only(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.create_job("acme", title="Python后端开发工程师", external_id="t-1")
    api.key("acme")
    hops: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(getattr(func, "func", func), "__qualname__", "?"))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    found = await api.search_jobs("acme", "Python", facets=["city"])
    assert [h["job"]["external_id"] for h in found["hits"]] == ["t-1"]
    # The key lookup (SQL) and the route (search, SQL) only: reading the runtime or checking
    # a scope is no reason to change threads, and the returned page is already JSON, so
    # FastAPI does not check it again in a thread.
    assert len(hops) == 2, hops
