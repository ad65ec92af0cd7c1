"""The search route's fixed costs: a result page's rows load in one query (no row loads a
column on first use), CORS runs as pure ASGI middleware and a search changes threads only
for work that blocks, with every privacy and CORS rule as before."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from starlette.middleware.base import BaseHTTPMiddleware

from bench.dedup_eval import repost
from ingestion.sample_data import generate_jobs
from tests.conftest import Api

pytestmark = pytest.mark.anyio

SITE = "https://careers.szu.example"


@contextmanager
def statements_on(api: Api) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = api.runtime.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reading_jobs(statements: list[str]) -> list[str]:
    return [s for s in statements if " FROM jobs" in s]


async def test_a_result_page_loads_its_rows_in_one_query(api: Api) -> None:
    fields = next(r.fields for r in generate_jobs(40, seed=21)
                  if r.language == "zh" and not r.fields["private"])  # fmt: skip
    fields = json.loads(json.dumps(fields, default=str))
    original = await api.create_job("acme", **{**fields, "external_id": "a-1"})
    copied = json.loads(json.dumps(repost(fields, random.Random(1)), default=str))
    copy = await api.create_job("globex", **{**copied, "external_id": "g-1"})
    assert copy["duplicate_of"] == original["id"]
    for n in range(20):
        await api.create_job("acme", title=f"Python后端开发工程师 {n}", external_id=f"p-{n}",
                             description=f"负责后端服务开发，简历请发 hr{n}@example.com")  # fmt: skip
    await api.create_job("globex", title="Python后端开发工程师", private=True, external_id="x")
    body = {"query": fields["title"] + " Python后端开发工程师", "page_size": 30,
            "include_duplicates": True}  # fmt: skip
    with statements_on(api) as statements:
        found = await api.search_jobs("acme", **body)
    page = reading_jobs(statements)
    rows = [s for s in page if s.startswith("SELECT jobs.id, jobs.tenant_id")]
    # One query for the page's rows, one for the duplicate groups they name; no row loads
    # a column on first use.
    assert len(rows) == 1 and len(page) == 2, page
    hits = {h["id"]: h for h in found["hits"]}
    assert len(hits) == 22 and original["id"] in hits and copy["id"] in hits
    # The page shows what it did: the group's first posting, masked contacts, compliance.
    assert hits[copy["id"]]["job"]["duplicate_of"] == original["id"]
    shown = [h for h in found["hits"] if h["job"]["external_id"] == "p-3"][0]
    assert shown["job"]["compliance"] is not None and shown["job"]["posted_at"]
    # acme's own postings: its agency key may edit them, so it reads its own contacts.
    assert "hr3@example.com" in shown["job"]["description"]
    reader = api.new_key("globex", "agency", scopes=["jobs:read"])  # no contact scope
    other = (await api.client.post("/v1/search/jobs", headers={"Authorization": f"Bearer {reader}"},
                                   json={"query": "Python后端开发工程师 hr3", "page_size": 30})).json()  # fmt: skip
    theirs = [h for h in other["hits"] if h["job"]["external_id"] == "p-3"][0]
    assert "hr3@example.com" not in theirs["job"]["description"]
    assert all("hr3@example.com" not in s for s in theirs["highlights"].get("description", []))


async def test_a_candidate_page_loads_its_rows_in_one_query(api: Api) -> None:
    for _ in range(12):
        await api.create_candidate("acme")
    with statements_on(api) as statements:
        found = (await api.post("/v1/search/candidates?blind=true", "acme",
                                {"query": "后端 Python", "page_size": 20})).json()  # fmt: skip
    assert len(found["hits"]) == 12
    assert all(h["candidate"]["name"] is None and h["candidate"]["email"] is None
               for h in found["hits"])  # fmt: skip
    rows = [s for s in statements if " FROM candidates" in s]
    sources = [s for s in statements if " FROM candidate_sources" in s]
    assert len(rows) == 1 and len(sources) <= 1, statements


def middleware_chain(app: Any) -> list[Any]:
    chain, layer = [], app.middleware_stack
    while layer is not None:
        chain.append(layer)
        layer = getattr(layer, "app", None)
    return chain


async def test_cors_is_pure_asgi_middleware_with_the_same_answers(api: Api) -> None:
    fair = {"id": "szu-2026-autumn", "name": "深大秋招"}
    fair_key = api.new_key("szu", "fair")
    created = await api.client.post(
        "/v1/fairs", json=fair, headers={"Authorization": f"Bearer {fair_key}"}
    )
    assert created.status_code == 201, created.text
    public = api.new_key("szu", "public", fair_id=fair["id"], origins=[SITE])
    api.runtime._browser_origins = (set(), -1e9)  # read the new key's origin now
    preflight = await api.client.options("/v1/search/jobs", headers={
        "Origin": SITE, "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    found = await api.client.post("/v1/search/jobs", json={"query": "Python"},
                                  headers={"Authorization": f"Bearer {public}", "Origin": SITE})  # fmt: skip
    assert found.status_code == 200, found.text
    assert found.headers["access-control-allow-origin"] == SITE
    assert found.headers["vary"] == "Origin" and found.headers["x-request-id"]
    # No layer of the served app is a BaseHTTPMiddleware (a task and a queue per request).
    chain = middleware_chain(api.app)
    assert any(type(layer).__name__ == "Cors" for layer in chain)
    assert not [layer for layer in chain if isinstance(layer, BaseHTTPMiddleware)]
