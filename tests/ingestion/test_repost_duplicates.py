"""Reposts that survive realistic reformatting are grouped (across agencies, through bulk
loads); the same company's other roles and other cities stay apart."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bench.dedup_eval import _score, choose_threshold, hand_made_pairs
from core.fingerprints import DUPLICATE_THRESHOLD
from tests.conftest import Api

ORIGINAL = {
    "external_id": "yf-1",
    "title": "高级Java开发工程师（跨境电商）",
    "company": "深圳市云帆跨境电子商务有限公司",
    "city": "深圳",
    "description": "岗位职责：\n1. 负责跨境电商平台后端服务的设计与开发；\n2. 参与订单、支付、物流等核心系统的架构优化；\n"
    "3. 编写技术文档，参与代码评审。\n任职要求：\n1. 本科及以上学历，3年以上Java开发经验；\n"
    "2. 熟悉Spring Boot、MySQL、Redis；\n3. 有跨境电商项目经验者优先。\n薪资：20-35K·14薪",
}
# Another agency's repost: 【】 headers, 一、 numbering, title words reordered, short name.
REPOST = {
    "external_id": "agency-77",
    "title": "Java高级开发工程师",
    "company": "云帆跨境",
    "city": "深圳",
    "description": "【岗位职责】\n一、负责跨境电商平台后端服务的设计与开发\n二、参与订单、支付、物流等核心系统的架构优化\n"
    "三、编写技术文档，参与代码评审\n【任职要求】\n一、本科及以上学历，3年以上Java开发经验\n"
    "二、熟悉Spring Boot、MySQL、Redis\n三、有跨境电商项目经验者优先\n薪资：20-35K·14薪",
}
OTHER_ROLE = {
    **ORIGINAL,
    "external_id": "yf-2",
    "title": "高级Python开发工程师（跨境电商）",
    "description": ORIGINAL["description"]
    .replace("Java", "Python")
    .replace("Spring Boot、MySQL", "Django、PostgreSQL"),
}
OTHER_CITY = {**ORIGINAL, "external_id": "yf-3", "city": "广州"}


async def load(api: Api, tenant: str, records: list[dict[str, Any]]) -> None:
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    response = await api.client.post(
        "/v1/jobs:bulk", files={"file": ("jobs.jsonl", content)}, headers=api.auth(tenant)
    )
    assert response.status_code == 202, response.text
    for _ in range(1200):  # a minute: bulk loads of tens of postings on a busy machine
        body = (await api.get(f"/v1/ingest-jobs/{response.json()['id']}", tenant)).json()
        if body["status"] == "done":
            assert body["failed"] == 0, body
            return
        await asyncio.sleep(0.05)
    raise AssertionError("load did not finish")


async def by_external_id(api: Api, tenant: str) -> dict[str, dict[str, Any]]:
    listing = (await api.get("/v1/jobs", tenant, params={"page_size": 100})).json()
    return {j["external_id"]: j for j in listing["items"]}


@pytest.mark.anyio
async def test_a_reformatted_repost_by_another_agency_is_grouped_through_bulk_loads(
    api: Api,
) -> None:
    await load(api, "acme", [ORIGINAL, OTHER_ROLE, OTHER_CITY])
    await load(api, "globex", [REPOST])
    acme, globex = await by_external_id(api, "acme"), await by_external_id(api, "globex")
    original = acme["yf-1"]
    assert globex["agency-77"]["duplicate_of"] == original["id"]
    # Hard non-duplicates: the same company's other role and other city.
    assert acme["yf-2"]["duplicate_of"] is None and acme["yf-3"]["duplicate_of"] is None
    group = (await api.get(f"/v1/jobs/{original['id']}/duplicates", "acme")).json()
    assert [j["external_id"] for j in group] == ["agency-77"]


@pytest.mark.anyio
async def test_a_repost_edited_into_another_role_leaves_the_group(api: Api) -> None:
    original = await api.create_job("acme", **{**ORIGINAL, "external_id": "a"})
    copy = await api.create_job("globex", **{**REPOST, "external_id": "b"})
    assert copy["duplicate_of"] == original["id"]
    edited = await api.patch(
        f"/v1/jobs/{copy['id']}", "globex",
        {"title": OTHER_ROLE["title"], "description": OTHER_ROLE["description"]},
    )  # fmt: skip
    assert edited.status_code == 200 and edited.json()["duplicate_of"] is None
    # The original's new copy is found from the LSH buckets of its current text.
    again = await api.create_job("globex", **{**REPOST, "external_id": "c"})
    assert again["duplicate_of"] == original["id"]


def test_hand_made_pairs_threshold_from_dev_and_f1_on_reporting() -> None:
    chosen, _ = choose_threshold()
    assert chosen == DUPLICATE_THRESHOLD
    dev, reporting = hand_made_pairs("dev"), hand_made_pairs("reporting")
    assert len(dev) + len(reporting) >= 60
    assert {d for _, _, d in reporting} == {True, False}
    assert _score(reporting, DUPLICATE_THRESHOLD).f1 >= 0.9
