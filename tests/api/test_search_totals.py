"""Honest totals through the API: keyword search counts every match and pages to the last;
hybrid search says whether its total is exact ("eq") or a lower bound ("gte")."""

from __future__ import annotations

from typing import Any

import pytest

from core.encoder import Encoder
from ingestion.sample_data import generate_jobs
from representation.encoders import HashingEncoder
from store.jobs import upsert_jobs
from store.keys import get_or_create_tenant
from tests.conftest import Api

pytestmark = pytest.mark.anyio

MATCHES = 1000  # postings that say the word; more than the retrieval depth (200)
WORD = "quokka"


@pytest.fixture
def use_encoder() -> Encoder:
    """Totals, not embedding quality, are under test: the model-free encoder keeps 1,000
    postings fast."""
    return HashingEncoder(64)


async def load_postings(api: Api) -> set[int]:
    """``MATCHES`` public postings that say ``WORD``, and a few that do not."""
    records = [dict(r.fields) for r in generate_jobs(MATCHES + 20, seed=31)]
    for n, fields in enumerate(records):
        fields["private"] = False
        fields["external_id"] = f"t-{n}"
        if n < MATCHES:
            fields["description"] = f"{fields['description']} {WORD}"
    runtime = api.runtime
    with runtime.db.session() as session:
        get_or_create_tenant(session, "acme")
        stored = upsert_jobs(session, tenant_id="acme", records=records)
        matching = {job.id for job, _ in stored[:MATCHES]}
    runtime.sync.drain()
    return matching


async def search(api: Api, **body: Any) -> dict[str, Any]:
    return await api.search_jobs("acme", WORD, **body)


async def test_keyword_total_is_the_exact_number_of_matches(api: Api) -> None:
    matching = await load_postings(api)
    every = await search(api, mode="keyword", include_duplicates=True)
    assert (every["total"], every["total_relation"]) == (MATCHES, "eq")
    assert {h["id"] for h in every["hits"]} <= matching
    # Near-duplicates count once: the collapsed total is the number of groups, still exact.
    collapsed = await search(api, mode="keyword")
    assert collapsed["total_relation"] == "eq" and 0 < collapsed["total"] <= MATCHES


async def test_keyword_paging_reaches_the_last_result(api: Api) -> None:
    matching = await load_postings(api)
    seen: list[int] = []
    last_page = MATCHES // 100
    for page in range(1, last_page + 2):
        body = await search(api, mode="keyword", include_duplicates=True, page=page, page_size=100)
        assert body["total"] == MATCHES
        seen += [h["id"] for h in body["hits"]]
    assert len(seen) == len(set(seen)) == MATCHES and set(seen) == matching
    collapsed_total = (await search(api, mode="keyword"))["total"]
    shown: list[int] = []
    for page in range(1, collapsed_total // 100 + 2):
        shown += [
            h["id"] for h in (await search(api, mode="keyword", page=page, page_size=100))["hits"]
        ]
    assert len(shown) == len(set(shown)) == collapsed_total


async def test_hybrid_total_says_it_is_a_lower_bound(api: Api) -> None:
    await load_postings(api)
    hybrid = await search(api, include_duplicates=True)
    # Semantic retrieval stops at its depth: at least every keyword match, and says so.
    assert hybrid["total_relation"] == "gte" and hybrid["total"] >= MATCHES
    listed = await api.search_jobs("acme", "", include_duplicates=True)
    assert (listed["total"], listed["total_relation"]) == (MATCHES + 20, "eq")
