"""Intake whose cost per posting does not grow with the corpus: a text many postings share
fills its LSH buckets only up to their capacity (the newest postings), while reposts still
join the right group through bulk loads."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from store.jobs import BUCKET_CAPACITY
from store.models import JobLshBucket
from tests.conftest import Api
from tests.ingestion.test_repost_duplicates import by_external_id, load

TEMPLATE = (
    "What you will do:\n- Build and run the payment platform's services\n"
    "- Review code and write design notes\n- Take part in the on-call rota\n"
    "What we look for:\nThree years of backend experience; SQL; message queues; "
    "clear written English.\nBenefits: paid leave, annual bonus, health check"
)
# One employer's template under many titles: each names a team the others lack, so none is a
# duplicate of another, and every one of them shares every bucket of the text.
ROLES = [
    {"external_id": f"team-{i}", "title": f"Team{i} Developer", "city": "深圳", "description": TEMPLATE}
    for i in range(BUCKET_CAPACITY + 18)
]  # fmt: skip
# The same posting as one text under one title, many times: one group.
COPIES = [
    {"external_id": f"copy-{i}", "title": "Platform Engineer", "city": "广州",
     "description": TEMPLATE.replace("payment platform", "logistics platform")}
    for i in range(BUCKET_CAPACITY + 8)
]  # fmt: skip


def bucket_sizes(api: Api) -> Counter[int]:
    with api.runtime.db.session() as session:
        return Counter(session.scalars(select(JobLshBucket.bucket)))


@pytest.mark.anyio
async def test_a_template_many_postings_share_keeps_its_buckets_bounded(api: Api) -> None:
    # Two loads: the second one's postings meet the first one's in the stored buckets.
    half = len(ROLES) // 2
    await load(api, "acme", ROLES[:half])
    await load(api, "acme", ROLES[half:])
    assert max(bucket_sizes(api).values()) == BUCKET_CAPACITY
    roles = await by_external_id(api, "acme")
    assert all(j["duplicate_of"] is None for j in roles.values())

    # Another agency reposts the newest role, reformatted: it joins that posting.
    newest = ROLES[-1]
    repost = {
        **newest,
        "external_id": "g-1",
        "description": newest["description"].replace("- ", "* ").replace(";", ","),
    }
    await load(api, "globex", [repost])
    globex = await by_external_id(api, "globex")
    assert globex["g-1"]["duplicate_of"] == roles[newest["external_id"]]["id"]
    assert max(bucket_sizes(api).values()) == BUCKET_CAPACITY


@pytest.mark.anyio
async def test_copies_beyond_the_bucket_capacity_still_join_the_first_posting(api: Api) -> None:
    await load(api, "acme", COPIES[:10])
    await load(api, "acme", COPIES[10:])
    copies = await by_external_id(api, "acme")
    first = copies["copy-0"]
    assert first["duplicate_of"] is None
    # The first posting left the crowded buckets long ago; the copies that pushed it out
    # carry its group.
    assert {copies[c["external_id"]]["duplicate_of"] for c in COPIES[1:]} == {first["id"]}
    group = (await api.get(f"/v1/jobs/{first['id']}/duplicates", "acme")).json()
    assert len(group) == len(COPIES) - 1
