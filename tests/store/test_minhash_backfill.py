"""Migration 0021: postings stored before MinHash existed get their signatures and LSH buckets
(in batches, buckets within capacity), so a later repost is grouped with them; the dead
posting SimHash columns are gone, the candidates' kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from core.fingerprints import lsh_buckets, minhash_bytes, minhash_from_bytes, posting_minhash
from core.settings import Settings
from representation.encoders import HashingEncoder
from store.db import migrate
from store.jobs import BUCKET_CAPACITY
from store.models import Job, JobLshBucket, Tenant
from tests.conftest import Api, job_payload

TEMPLATE = (
    "岗位职责：\n1. 负责仓储中心的日常出入库管理；\n2. 盘点库存并维护系统数据；\n"
    "3. 协调物流车辆与装卸安排。\n任职要求：\n1. 两年以上仓储管理经验；\n2. 熟悉WMS系统；\n"
    "3. 能适应倒班。\n福利待遇：五险一金、包吃住、年终奖"
)
ORIGINAL = {
    "title": "Java后端开发工程师",
    "city": "深圳",
    "description": "岗位职责：\n1. 负责支付平台后端服务的设计与开发；\n2. 参与交易、清结算等核心系统的架构优化；\n"
    "3. 编写技术文档，参与代码评审。\n任职要求：\n1. 本科及以上学历，3年以上Java开发经验；\n"
    "2. 熟悉Spring Boot、MySQL、Redis、Kafka；\n3. 有支付行业经验者优先。\n薪资：25-40K·15薪",
}
# Another agency's repost of it: bracket headers, Chinese numbering, no trailing semicolons.
REPOST = {
    "title": "Java后端开发工程师",
    "city": "深圳",
    "description": "【岗位职责】\n一、负责支付平台后端服务的设计与开发\n二、参与交易、清结算等核心系统的架构优化\n"
    "三、编写技术文档，参与代码评审\n【任职要求】\n一、本科及以上学历，3年以上Java开发经验\n"
    "二、熟悉Spring Boot、MySQL、Redis、Kafka\n三、有支付行业经验者优先\n薪资：25-40K·15薪",
}
# More postings than one batch of the backfill, most of them one template under many titles
# (so their buckets overflow).
CROWD = 1030


def _store_at_0020(settings: Settings) -> None:
    """A database at revision 0020 holding postings the way 0017 and earlier wrote them: no
    MinHash, no buckets."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        migrate(engine, "0020")
        with Session(engine) as session, session.begin():
            session.add(Tenant(id="acme", name="acme"))
            session.flush()
            session.add(Job(tenant_id="acme", external_id="original", **ORIGINAL))
            session.add_all(
                Job(tenant_id="acme", external_id=f"shift-{i}", title=f"仓库管理员{i}号岗",
                    city="广州", description=TEMPLATE)
                for i in range(CROWD)
            )  # fmt: skip
    finally:
        engine.dispose()


async def _repost(api: Api) -> dict[str, Any]:
    response = await api.post("/v1/jobs", "globex", job_payload(external_id="g-1", **REPOST))
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.anyio
async def test_postings_stored_before_minhash_are_backfilled_and_found_by_reposts(
    settings: Settings, app_factory: Callable[..., Any]
) -> None:
    _store_at_0020(settings)
    # Its start migrates the database to the latest revision (and indexes every posting:
    # with hashing vectors, as this is about duplicates, not embeddings).
    app = app_factory(encoder=HashingEncoder(64))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, app)
            with api.runtime.db.session() as session:
                original = session.scalars(select(Job).where(Job.external_id == "original")).one()
                signature = posting_minhash(original.title, original.city, original.description)
                assert original.minhash == minhash_bytes(signature)
                stored = set(
                    session.scalars(
                        select(JobLshBucket.bucket).where(JobLshBucket.job_id == original.id)
                    )
                )
                assert stored == set(lsh_buckets(signature))
                assert session.scalar(select(Job.id).where(Job.minhash.is_(None))) is None
                sizes = Counter(session.scalars(select(JobLshBucket.bucket)))
                # The crowd's buckets hold the newest postings only.
                assert max(sizes.values()) == BUCKET_CAPACITY
                newest = session.scalars(select(Job).order_by(Job.id.desc()).limit(1)).one()
                kept = set(
                    session.scalars(
                        select(JobLshBucket.bucket).where(JobLshBucket.job_id == newest.id)
                    )
                )
                assert kept == set(lsh_buckets(minhash_from_bytes(newest.minhash or b"")))

            repost = await _repost(api)
            assert repost["duplicate_of"] == original.id


def test_the_posting_simhash_columns_are_dropped_and_the_candidates_kept(
    settings: Settings,
) -> None:
    _store_at_0020(settings)
    engine = create_engine(settings.database_url)
    try:
        migrate(engine)
        schema = inspect(engine)
        job_columns = {c["name"] for c in schema.get_columns("jobs")}
        candidate_columns = {c["name"] for c in schema.get_columns("candidates")}
    finally:
        engine.dispose()
    assert not {c for c in job_columns if c.startswith("simhash")}
    assert {"simhash", "simhash_b0", "simhash_b3"} <= candidate_columns
