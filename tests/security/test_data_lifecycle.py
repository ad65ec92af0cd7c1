"""What happens to data when its owner goes: ids are never handed out twice, rows keyed by a
posting go with it, stored originals and bulk sources are encrypted and not kept past their
use, and an erasure's index rewrite survives a restart."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from core.settings import Settings
from store.db import Database, migrate
from store.models import Feedback, Job, StoredFile
from tests.api.test_files import upload
from tests.conftest import Api
from tests.ingestion.test_bulk import post_bulk, wait_done

pytestmark = pytest.mark.anyio
POSTING = """数据平台架构师
公司：深圳市湾区数据有限公司
工作地点：深圳市南山区
薪资：40-60K·14薪
任职要求：本科及以上学历，8年以上大数据经验；熟悉Spark、Flink、Kafka。
联系人：陈先生 13800001111""".encode()
RESUME = """欧阳晓岚
电话：13912345678  邮箱：ouyang.xl@example.com
现居地：深圳
求职意向：数据分析师
技能：Python、SQL
工作经历
2020.01 - 至今 某科技公司 数据分析师 负责渠道归因模型与留存漏斗建设。"""
# Words of the résumé that reach the keyword index (names and contacts may not).
INDEXED_SECRET = "渠道归因模型"


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def keyword_segments(index_dir: Path) -> set[str]:
    """The keyword index's segments on disk. Text compresses inside a segment's term
    dictionary, so the test for erased text is that the segments that held it are gone."""
    return {p.stem for p in (index_dir / "keyword").glob("*.term")}


def _count(settings: Settings, model: Any) -> int:
    db = Database(settings)
    try:
        with db.session() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        db.dispose()


async def test_a_deleted_postings_file_and_id_never_reach_another_tenant(
    api: Api, settings: Settings
) -> None:
    [uploaded] = await upload(api, "/v1/jobs/files", [("job.txt", POSTING)], tenant="acme")
    job_id = uploaded["id"]
    assert (await api.get(f"/v1/jobs/{job_id}/file", "acme")).content == POSTING
    assert (await api.delete(f"/v1/jobs/{job_id}", "acme")).status_code == 204
    assert _count(settings, StoredFile) == 0
    assert not [p for p in settings.files_dir.rglob("*") if p.is_file()]

    other = await api.create_job("globex", title="仓库管理员")
    assert other["id"] != job_id  # SQLite used to hand the deleted id to the next posting
    assert (await api.get(f"/v1/jobs/{other['id']}/file", "globex")).status_code == 404
    assert (await api.get(f"/v1/jobs/{job_id}", "globex")).status_code == 404


async def test_deleting_a_duplicate_groups_head_hands_the_group_on(api: Api) -> None:
    first = await api.create_job("acme", title="Java开发工程师", external_id="a-1")
    copies = [await api.create_job(t, title="Java开发工程师") for t in ("globex", "initech")]
    assert [c["duplicate_of"] for c in copies] == [first["id"]] * 2
    assert (await api.delete(f"/v1/jobs/{first['id']}", "acme")).status_code == 204
    after = [(await api.get(f"/v1/jobs/{c['id']}", "globex")).json() for c in copies]
    assert after[0]["duplicate_of"] is None  # the earliest remaining posting leads the group
    assert after[1]["duplicate_of"] == copies[0]["id"]
    found = await api.search_jobs("globex", "Java开发工程师", mode="keyword")
    assert [h["id"] for h in found["hits"]] == [copies[0]["id"]]  # one hit for the group


async def test_stored_originals_are_encrypted_at_rest(api: Api, settings: Settings) -> None:
    response = await api.client.post(
        "/v1/candidates/files", files=[("files", ("cv.txt", RESUME.encode()))],
        headers=api.auth("acme"),
    )  # fmt: skip
    person_id = response.json()["results"][0]["id"]
    on_disk = _all_bytes(settings.files_dir)
    assert on_disk  # the original is kept...
    for secret in ("欧阳晓岚", "13912345678", "ouyang.xl@example.com", INDEXED_SECRET):
        assert secret.encode() not in on_disk, secret  # ...but not readable without the key
    served = await api.get(f"/v1/candidates/{person_id}/file", "acme")
    assert served.content == RESUME.encode()


async def test_a_bulk_source_is_not_kept_after_its_load(api: Api, settings: Settings) -> None:
    person = {"external_id": "crm-77", "name": "欧阳晓岚", "email": "ouyang.xl@example.com",
              "phone": "13912345678", "resume_text": RESUME}  # fmt: skip
    content = json.dumps(person, ensure_ascii=False).encode()
    load = await post_bulk(api, "/v1/candidates:bulk", "people.jsonl", content)
    done = await wait_done(api, load["id"])
    assert done["succeeded"] == 1
    assert not [p for p in settings.files_dir.rglob("*") if p.is_file()]
    listed = (await api.get("/v1/candidates", "acme")).json()["items"]
    [person_id] = [c["id"] for c in listed]
    assert (await api.delete(f"/v1/candidates/{person_id}", "acme")).status_code == 204
    everything = _all_bytes(settings.data_dir)
    for secret in ("欧阳晓岚", "13912345678", "ouyang.xl@example.com", INDEXED_SECRET):
        # The database is checked byte for byte on SQLite (PostgreSQL's files are elsewhere).
        assert secret.encode() not in everything, secret


async def test_an_erasures_index_rewrite_survives_a_restart(
    app_factory: Callable[..., Any], settings: Settings
) -> None:
    # Rewrites are due only an hour after an erasure: the restart comes first.
    slow_purge = settings.model_copy(
        update={"search": settings.search.model_copy(update={"purge_interval_s": 3600.0})}
    )
    app = app_factory(settings=slow_purge)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        api = Api(client, slow_purge, app)
        # Two people indexed in one batch share a segment; erasing one leaves the segment.
        people = [
            {"external_id": "p-1", "name": "欧阳晓岚", "resume_text": RESUME},
            {"external_id": "p-2", "name": "李强", "resume_text": "李强 Java 后端工程师"},
        ]
        content = "\n".join(json.dumps(p, ensure_ascii=False) for p in people).encode()
        await wait_done(
            api, (await post_bulk(api, "/v1/candidates:bulk", "p.jsonl", content))["id"]
        )
        hits = await api.post("/v1/search/candidates", "acme",
                              {"query": INDEXED_SECRET, "mode": "keyword"})  # fmt: skip
        [person_id] = [h["id"] for h in hits.json()["hits"]]
        assert (await api.delete(f"/v1/candidates/{person_id}", "acme")).status_code == 204
    # Not rewritten yet: the segment with the erased text (only marked deleted) is on disk.
    lingering = keyword_segments(settings.index_dir / "candidates")
    assert lingering

    restarted = app_factory(settings=slow_purge)
    async with restarted.router.lifespan_context(restarted):
        assert not lingering & keyword_segments(settings.index_dir / "candidates")
    db = Database(settings)
    try:
        with db.session() as session:
            assert session.execute(text("SELECT count(*) FROM index_purges")).scalar() == 0
    finally:
        db.dispose()


def test_the_migration_keeps_rows_and_stops_id_reuse(tmp_path: Path, sqlite_only: None) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    migrate(engine, "0011")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'acme', '2026-01-01')")
        )
        for job_id in (1, 2):
            connection.execute(text(
                "INSERT INTO jobs (id, tenant_id, title, description, remote, employment_type, "
                "required_skills, preferred_skills, benefits, private, posted_at, created_at, "
                "updated_at) VALUES (:id, 'acme', 'Java', '', 0, 'full_time', '[]', '[]', '[]', 0, "
                "'2026-01-01', '2026-01-01', '2026-01-01')"), {"id": job_id})  # fmt: skip
        connection.execute(text(
            "INSERT INTO candidates (id, tenant_id, desired_titles, experience, skills, languages, "
            "certificates, extracted_fields, created_at, updated_at) VALUES (1, 'acme', '[]', '[]', "
            "'[]', '[]', '[]', '[]', '2026-01-01', '2026-01-01')"))  # fmt: skip
        connection.execute(text(
            "INSERT INTO feedback (tenant_id, job_id, candidate_id, actor, action, created_at) "
            "VALUES ('acme', 2, 1, 'recruiter', 'hired', '2026-01-01')"))  # fmt: skip
    engine.dispose()

    settings = Settings(environment="test", data_dir=tmp_path, db={"url": url})
    db = Database(settings)  # migrates to head
    try:
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Feedback)) == 1
            session.execute(text("DELETE FROM feedback"))
            session.delete(session.get(Job, 2))
        with db.session() as session:
            job = Job(tenant_id="acme", title="Go")
            session.add(job)
            session.flush()
            assert job.id == 3  # not 2 again
    finally:
        db.dispose()
