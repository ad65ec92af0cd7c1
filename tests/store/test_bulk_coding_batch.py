"""A bulk load stores every posting exactly as posting it alone does: the same occupation code
and confidence, the same extraction from the description, the same compliance flags and the
same duplicate groups, however the bulk path batches its work (titles coded at once, cached,
rows written together)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.encoder import Encoder
from ingestion.sample_data import generate_jobs
from representation.encoders import HashingEncoder
from taxonomy import occupations
from taxonomy.occupations import code_title, csco_coder, esco_coder
from tests.conftest import Api

pytestmark = pytest.mark.anyio

# Fields whose values differ between two stores of the same posting by construction.
_OWN = {"id", "tenant_id", "created_at", "updated_at", "duplicate_of"}


@pytest.fixture
def use_encoder() -> Encoder:
    """Stored fields, not embeddings, are under test: the model-free encoder keeps it fast."""
    return HashingEncoder(64)


def _cold_coders() -> None:
    """Fresh coders, so each load codes its titles itself, not from a cache of the other's
    (or of an earlier test's) coding."""
    csco_coder.cache_clear()
    esco_coder.cache_clear()
    getattr(code_title, "cache_clear", lambda: None)()


def _records() -> list[dict[str, Any]]:
    """Mixed Chinese and English postings, titles repeated (generated loads repeat them, and
    so do real ones), noisy titles that clean to the same occupation words, reposts, a
    posting whose place, pay and skills are only in its description, and one with a
    discriminatory requirement."""
    generated = [dict(r.fields) for r in generate_jobs(60, seed=77)]
    for fields in generated:
        fields["posted_at"] = fields["posted_at"].isoformat()
    handmade: list[dict[str, Any]] = [
        {
            "title": "急招 Java开发工程师（双休+五险一金）",
            "description": "负责后端开发。",
            "city": "深圳",
        },
        {"title": "高级Java开发工程师", "description": "负责后端开发。", "city": "深圳"},
        {"title": "Java开发工程师", "description": "负责后端开发。", "city": "深圳"},
        {
            "title": "Registered Nurse - ICU",
            "description": "Care for patients.",
            "city": "Shanghai",
        },
        {
            "title": "Senior Registered Nurse",
            "description": "Care for patients.",
            "city": "Shanghai",
        },
        {
            "title": "Registered Nurse - ICU",
            "description": "Night shifts in the ICU.",
            "city": "Beijing",
        },
        {
            "title": "数据分析师",
            "description": "工作地点：深圳南山区。薪资：15-25K·13薪。要求3年以上数据分析经验，"
            "熟悉Python和SQL，本科及以上学历，有Tableau经验者优先。福利：五险一金、双休。",
        },
        {
            "title": "Data Analyst",
            "description": "Location: Shenzhen. Salary: $5k-8k per month. 3+ years of experience "
            "with Python and SQL required; Tableau is a plus. Full-time.",
        },
        {"title": "收银员", "description": "限男性，35岁以下，身体健康。", "city": "广州"},
        {"title": "Cashier", "description": "Cash handling at the front desk.", "city": "广州"},
    ]
    records = generated + handmade
    # Reposts of earlier postings (another agency's wording of the same offer).
    records += [
        {**generated[5], "title": "急招 " + generated[5]["title"]},
        {**generated[12], "company": (generated[12].get("company") or "") + "(深圳)有限公司"},
        dict(generated[5]),
    ]
    # Titles repeated exactly, as in a load of one employer's openings.
    records += [{**generated[n], "description": generated[n]["description"] + "（第二批）"}
                for n in (1, 2, 2, 3)]  # fmt: skip
    for n, fields in enumerate(records):
        # Private: each tenant's postings are grouped among its own only, so the two loads
        # below cannot group with one another.
        fields.update(external_id=f"eq-{n}", private=True)
        fields.setdefault("posted_at", "2026-11-20T09:00:00+00:00")
    return records


async def _stored(api: Api, tenant: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tenant's stored postings as the API reads them, in the order of ``records``."""
    by_external: dict[str, dict[str, Any]] = {}
    for page in (1, 2):
        listed = await api.get("/v1/jobs", tenant, params={"page": page, "page_size": 100})
        assert listed.status_code == 200, listed.text
        by_external.update((row["external_id"], row) for row in listed.json()["items"])
    return [by_external[r["external_id"]] for r in records]


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row without what differs by construction, its group as the position of the
    group's first posting in the load."""
    position = {row["id"]: n for n, row in enumerate(rows)}
    shown = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in _OWN}
        fields["group"] = position.get(row["duplicate_of"]) if row["duplicate_of"] else None
        shown.append(fields)
    return shown


async def _bulk_load(api: Api, tenant: str, records: list[dict[str, Any]]) -> None:
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    response = await api.client.post(
        "/v1/jobs:bulk", files={"file": ("postings.jsonl", content)}, headers=api.auth(tenant)
    )
    assert response.status_code == 202, response.text
    load = response.json()["id"]
    for _ in range(600):
        state = (await api.get(f"/v1/ingest-jobs/{load}", tenant)).json()
        if state["status"] == "done":
            break
        await asyncio.sleep(0.25)
    assert state["status"] == "done" and state["failed"] == 0, state


async def test_bulk_load_stores_what_one_by_one_posting_does(api: Api) -> None:
    records = _records()
    _cold_coders()
    await _bulk_load(api, "bulk", records)
    _cold_coders()
    for fields in records:
        response = await api.post("/v1/jobs", "alone", fields)
        assert response.status_code in (200, 201), response.text

    expected = _comparable(await _stored(api, "alone", records))
    got = _comparable(await _stored(api, "bulk", records))
    for n, (one, many) in enumerate(zip(expected, got, strict=True)):
        assert many == one, f"record {n} ({records[n]['title']}) stored differently"
    # The load covers what it is meant to: coded titles in both languages, repeated titles,
    # an extraction from the description, duplicate groups and a compliance flag.
    assert {row["occupation_code"][:4] == "ISCO" for row in got if row["occupation_code"]} == {
        True,
        False,
    }
    titles = [r["title"] for r in records]
    assert len(set(titles)) < len(titles)
    assert got[66]["city_code"] is not None and got[66]["extraction"]
    assert sum(1 for row in got if row["group"] is not None) >= 3
    assert got[68]["compliance"]["flags"]


@pytest.fixture
def coder_data(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Lets a test change the labelled titles the CSCO coder is built from; the coders are
    rebuilt from the shipped data afterwards."""
    yield monkeypatch
    monkeypatch.undo()
    _cold_coders()


async def test_a_coder_built_from_other_data_is_not_answered_from_the_cache(
    api: Api, coder_data: pytest.MonkeyPatch
) -> None:
    first = await api.create_job("acme", title="收银员", external_id="c-1", description="收银。")
    assert first["occupation_code"] == "4-01-02-04"
    shipped = occupations.csco_labelled_titles
    # New labelled data that codes the title elsewhere, and the coder rebuilt from it.
    coder_data.setattr(
        occupations, "csco_labelled_titles", lambda: [*shipped(), *[("收银员", "2-02-10-03")] * 20]
    )
    csco_coder.cache_clear()
    await _bulk_load(
        api, "acme", [{"external_id": "c-2", "title": "收银员", "description": "收银。"}]
    )
    second = (await api.get("/v1/jobs", "acme")).json()["items"]
    assert {row["external_id"]: row["occupation_code"] for row in second} == {
        "c-1": "4-01-02-04",
        "c-2": "2-02-10-03",
    }
