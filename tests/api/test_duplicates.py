"""Near-duplicate postings are grouped across agencies; search shows one per group."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bench.dedup_eval import evaluate_dedup, repost
from ingestion.sample_data import generate_jobs
from tests.conftest import Api

pytestmark = pytest.mark.anyio


def as_json(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(fields, default=str)))


async def test_reposts_are_grouped_and_collapsed_in_search(api: Api) -> None:
    original_fields = next(
        r.fields
        for r in generate_jobs(40, seed=21)
        if r.language == "zh" and not r.fields["private"]
    )
    copy_fields = repost(original_fields, random.Random(1))
    original = await api.create_job("acme", **as_json({**original_fields, "external_id": "a-1"}))
    copy = await api.create_job("globex", **as_json({**copy_fields, "external_id": "g-1"}))
    unrelated = await api.create_job(
        "acme", title="中餐厨师", description="负责粤菜制作。", required_skills=["烹饪"]
    )
    assert original["duplicate_of"] is None
    assert copy["duplicate_of"] == original["id"]
    assert unrelated["duplicate_of"] is None
    listed = await api.search_jobs("acme", "", page_size=50)
    ids = [h["id"] for h in listed["hits"]]
    assert listed["total"] == 2 and unrelated["id"] in ids
    grouped = next(h for h in listed["hits"] if h["id"] in (original["id"], copy["id"]))
    assert grouped["duplicates"] == 1
    everything = await api.search_jobs("acme", "", page_size=50, include_duplicates=True)
    assert everything["total"] == 3
    others = (await api.get(f"/v1/jobs/{original['id']}/duplicates", "acme")).json()
    assert [j["id"] for j in others] == [copy["id"]]


async def test_private_postings_are_not_grouped_across_tenants(api: Api) -> None:
    fields = next(r.fields for r in generate_jobs(10, seed=22))
    await api.create_job("acme", **as_json({**fields, "private": True, "external_id": "p"}))
    other = await api.create_job(
        "globex", **as_json({**fields, "private": False, "external_id": "q"})
    )
    assert other["duplicate_of"] is None


def test_duplicate_detection_quality_on_labelled_pairs() -> None:
    report = evaluate_dedup()
    assert report.pairs == 600
    assert report.precision >= 0.95 and report.recall >= 0.9
