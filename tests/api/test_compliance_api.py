"""Posting compliance through the API: every write is checked and every posting response
carries the flags (zh/en); a tenant's block policy refuses unlawful postings (bulk: per
row); fairs and their widget never show one; the operator reviews flags across tenants."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from core.settings import Settings
from store.db import Database, migrate
from store.models import AuditEvent, Job
from tests.conftest import Api, job_payload

pytestmark = pytest.mark.anyio
EXAMPLE = "限男性，35岁以下，已婚已育优先，身高165cm以上，本地户口，不招河南籍"
FAIR, SITE = "szu-2026-autumn", "https://jobs.szu.edu.cn"


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


async def set_policy(api: Api, admin: str, tenant: str, policy: str) -> None:
    response = await api.client.patch(f"/v1/admin/tenants/{tenant}", headers=bearer(admin),
                                      json={"compliance_policy": policy})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["compliance_policy"] == policy


async def test_the_issue_example_is_accepted_under_warn_with_its_flags(api: Api) -> None:
    created = await api.create_job("acme", description=EXAMPLE)
    assert created["compliance"]["status"] == "unlawful"
    found = {f["category"] for f in created["compliance"]["flags"]}
    assert found == {"sex", "age", "marital_childbearing", "appearance", "hukou_origin"}
    for flag in created["compliance"]["flags"]:
        start, end = flag["span"]
        assert EXAMPLE[start:end] == flag["text"] and flag["field"] == "description"
        assert flag["basis"] and flag["suggestion"]
    url = f"/v1/jobs/{created['id']}"
    zh = (
        await api.client.get(url, headers={**api.auth("acme"), "Accept-Language": "zh-CN"})
    ).json()
    en = (await api.client.get(url, headers={**api.auth("acme"), "Accept-Language": "en"})).json()
    sex_zh = next(f for f in zh["compliance"]["flags"] if f["category"] == "sex")
    sex_en = next(f for f in en["compliance"]["flags"] if f["category"] == "sex")
    assert "就业促进法" in sex_zh["explanation"] and sex_zh["suggestion"].startswith("改为")
    assert "Employment Promotion Law" in sex_en["explanation"]
    assert sex_en["basis"][0] == {"law": "Employment Promotion Law", "article": "27"}
    listed = (await api.get("/v1/jobs", "acme")).json()["items"]
    assert listed[0]["compliance"]["status"] == "unlawful"
    hits = (await api.search_jobs("acme", "Python"))["hits"]
    assert hits and hits[0]["job"]["compliance"]["status"] == "unlawful"
    clean = await api.create_job("acme", external_id="clean", description="男女不限，年满18周岁。")
    assert clean["compliance"] == {"status": "ok", "flags": []}


async def test_block_refuses_unlawful_writes_and_stores_nothing(api: Api) -> None:
    admin = api.new_key("operator", "admin")
    kept = await api.create_job("acme", external_id="kept", description="负责仓储管理。")
    await set_policy(api, admin, "acme", "block")
    refused = await api.post("/v1/jobs", "acme", job_payload(description=EXAMPLE))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "noncompliant_posting"
    assert {d["category"] for d in error["details"]} == {"sex", "marital_childbearing",
                                                         "hukou_origin"}  # fmt: skip
    assert all(d["field"] == "description" and d["level"] == "unlawful" for d in error["details"])
    # An edit that would make the stored posting unlawful is refused too, the posting unchanged.
    edit = await api.patch(f"/v1/jobs/{kept['id']}", "acme", {"description": "限男性。"})
    assert edit.status_code == 422 and edit.json()["error"]["code"] == "noncompliant_posting"
    items = (await api.get("/v1/jobs", "acme")).json()["items"]
    assert [(j["id"], j["description"]) for j in items] == [(kept["id"], "负责仓储管理。")]
    # Advisory findings are not blocked.
    advisory = await api.create_job("acme", external_id="adv", description="35岁以下。")
    assert advisory["compliance"]["status"] == "advisory"
    # Other tenants keep the default (warn).
    assert (await api.create_job("globex", description=EXAMPLE))["compliance"][
        "status"
    ] == "unlawful"


async def test_bulk_under_block_fails_the_unlawful_row_only(api: Api) -> None:
    admin = api.new_key("operator", "admin")
    api.key("acme")  # the tenant exists once it has a key
    await set_policy(api, admin, "acme", "block")
    rows = [job_payload(external_id="b1", description="负责仓储。"),
            job_payload(external_id="b2", description="仅招男生，需搬运。"),
            job_payload(external_id="b3", description="男女不限。")]  # fmt: skip
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    response = await api.client.post("/v1/jobs:bulk", files={"file": ("jobs.jsonl", content)},
                                      headers=api.auth("acme"))  # fmt: skip
    assert response.status_code == 202, response.text
    load_id = response.json()["id"]
    for _ in range(600):
        done = (await api.get(f"/v1/ingest-jobs/{load_id}", "acme")).json()
        if done["status"] == "done":
            break
        await asyncio.sleep(0.05)
    assert (done["succeeded"], done["failed"]) == (2, 1)
    assert [(e["line"], e["field"]) for e in done["errors"]] == [(2, "description")]
    stored = (await api.get("/v1/jobs", "acme")).json()["items"]
    assert sorted(j["external_id"] for j in stored) == ["b1", "b3"]


async def _fair(api: Api) -> tuple[str, dict[str, str]]:
    api.runtime.rate_limiter._per_minute["public"] = 0
    fair_key = api.new_key("szu", "fair")
    created = await api.client.post("/v1/fairs", json={"id": FAIR, "name": "深大秋招"},
                                    headers=bearer(fair_key))  # fmt: skip
    assert created.status_code == 201, created.text
    public = api.new_key("szu", "public", fair_id=FAIR, origins=[SITE])
    return fair_key, bearer(public, Origin=SITE)


async def _shown(api: Api, browser: dict[str, str]) -> dict[str, list[int]]:
    listing = (await api.client.get(f"/v1/fairs/{FAIR}/postings", headers=browser)).json()
    jobs = (await api.client.get("/v1/jobs", headers=browser)).json()["items"]
    found = (await api.client.post("/v1/search/jobs", headers=browser, json={"query": ""})).json()
    return {"postings": [j["id"] for j in listing], "jobs": [j["id"] for j in jobs],
            "search": [h["id"] for h in found["hits"]]}  # fmt: skip


async def test_fairs_refuse_unlawful_postings_and_hide_one_made_unlawful(api: Api) -> None:
    fair_key, browser = await _fair(api)
    unlawful = await api.create_job("acme", external_id="u", description=EXAMPLE)
    refused = await api.client.put(f"/v1/fairs/{FAIR}/postings/{unlawful['id']}",
                                   headers=bearer(fair_key))  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "noncompliant_posting"
    assert {d["category"] for d in refused.json()["error"]["details"]} >= {"sex", "hukou_origin"}
    lawful = await api.create_job("acme", external_id="l", description="负责后端开发。")
    shown = await api.client.put(f"/v1/fairs/{FAIR}/postings/{lawful['id']}",
                                 headers=bearer(fair_key))  # fmt: skip
    assert shown.status_code in (200, 201), shown.text
    assert await _shown(api, browser) == {"postings": [lawful["id"]], "jobs": [lawful["id"]],
                                          "search": [lawful["id"]]}  # fmt: skip
    edit = await api.patch(f"/v1/jobs/{lawful['id']}", "acme", {"description": "限女性，未婚。"})
    assert edit.status_code == 200 and edit.json()["compliance"]["status"] == "unlawful"
    assert await _shown(api, browser) == {"postings": [], "jobs": [], "search": []}
    assert (await api.client.get(f"/v1/jobs/{lawful['id']}", headers=browser)).status_code == 404
    # Corrected, it is shown again: the fair's approval was kept.
    await api.patch(f"/v1/jobs/{lawful['id']}", "acme", {"description": "男女不限。"})
    assert (await _shown(api, browser))["postings"] == [lawful["id"]]


async def test_the_review_queue_is_the_operators_and_reviews_are_audited(api: Api) -> None:
    admin = api.new_key("operator", "admin")
    flagged = await api.create_job("acme", description="限男性，35岁以下。")
    await api.create_job("globex", external_id="g", description="形象气质佳。")
    await api.create_job("globex", external_id="ok", description="男女不限。")
    for key in (api.key("acme"), api.new_key("szu", "fair")):
        assert (
            await api.client.get("/v1/admin/compliance", headers=bearer(key))
        ).status_code == 403
    queue = (await api.client.get("/v1/admin/compliance", headers=bearer(admin))).json()
    assert queue["total"] == 2
    assert {(i["tenant_id"], i["status"]) for i in queue["items"]} == {
        ("acme", "unlawful"), ("globex", "advisory"),
    }  # fmt: skip
    only = (await api.client.get("/v1/admin/compliance", headers=bearer(admin),
                                 params={"level": "unlawful", "tenant": "acme"})).json()  # fmt: skip
    assert [i["job_id"] for i in only["items"]] == [flagged["id"]]
    sex = next(i for i, f in enumerate(only["items"][0]["flags"]) if f["category"] == "sex")
    url = f"/v1/admin/compliance/{flagged['id']}/flags/{sex}/review"
    refused = await api.client.post(url, headers=api.auth("acme"), json={"decision": "confirmed"})
    assert refused.status_code == 403
    bad = await api.client.post(url, headers=bearer(admin), json={"decision": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "decision"
    reviewed = await api.client.post(url, headers=bearer(admin),
                                     json={"decision": "false_positive", "note": "测试"})  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert body["status"] == "advisory"  # the false positive no longer counts
    assert body["flags"][sex]["review"]["decision"] == "false_positive"
    # The agency sees the status, not the operator's review.
    seen = (await api.get(f"/v1/jobs/{flagged['id']}", "acme")).json()["compliance"]
    assert seen["status"] == "advisory" and all(f.get("review") is None for f in seen["flags"])
    pending = (await api.client.get("/v1/admin/compliance", headers=bearer(admin),
                                    params={"status": "pending"})).json()  # fmt: skip
    assert {i["job_id"] for i in pending["items"]} >= {flagged["id"]}  # age not yet reviewed
    db = Database(api.settings)
    try:
        with db.session() as session:
            events: list[Any] = list(session.scalars(
                select(AuditEvent).where(AuditEvent.action == "compliance_review")))  # fmt: skip
    finally:
        db.dispose()
    assert [(e.entity, e.entity_id, e.tenant_id) for e in events] == [
        ("job", flagged["id"], "acme")
    ]
    missing = await api.client.post(f"/v1/admin/compliance/{flagged['id']}/flags/9/review",
                                    headers=bearer(admin), json={"decision": "confirmed"})  # fmt: skip
    assert missing.status_code == 404


async def test_posting_files_are_checked_and_blocked_per_file(api: Api) -> None:
    files = [("warehouse.txt", "仓库管理员\n岗位要求：限男性，乙肝携带者勿扰。\n负责出入库。"),
             ("clerk.txt", "行政文员\n岗位要求：男女不限，熟练使用Office。")]  # fmt: skip
    upload = [("files", (name, text.encode())) for name, text in files]
    response = await api.client.post("/v1/jobs/files", files=upload, headers=api.auth("acme"))
    results = {r["filename"]: r for r in response.json()["results"]}
    stored = (await api.get(f"/v1/jobs/{results['warehouse.txt']['id']}", "acme")).json()
    assert {f["category"] for f in stored["compliance"]["flags"]} == {"sex", "health"}
    admin = api.new_key("operator", "admin")
    await set_policy(api, admin, "acme", "block")
    again = [
        (
            "files",
            (
                "other.txt",
                "仓库管理员\n岗位要求：限男性，能适应倒班。\n负责出入库和盘点。".encode(),
            ),
        )
    ] + upload[1:]
    response = await api.client.post("/v1/jobs/files", files=again, headers=api.auth("acme"))
    results = {r["filename"]: r for r in response.json()["results"]}
    assert results["other.txt"]["status"] == "error"
    assert results["other.txt"]["error"]["code"] == "noncompliant_posting"
    assert results["clerk.txt"]["status"] == "updated"
    titles = sorted(j["title"] for j in (await api.get("/v1/jobs", "acme")).json()["items"])
    assert titles == ["仓库管理员", "行政文员"]  # the refused file stored nothing


async def test_reviewed_flags_extend_the_evaluation_set(api: Api) -> None:
    from bench.compliance_eval import evaluate, reviews_from_database

    admin = api.new_key("operator", "admin")
    job = await api.create_job("acme", description="岗位职责：仓储。限男性，35岁以下。")
    flags = job["compliance"]["flags"]
    decisions = {"sex": "confirmed", "age": "false_positive"}
    for index, flag in enumerate(flags):
        response = await api.client.post(
            f"/v1/admin/compliance/{job['id']}/flags/{index}/review", headers=bearer(admin),
            json={"decision": decisions[flag["category"]]},
        )  # fmt: skip
        assert response.status_code == 200, response.text
    db = Database(api.settings)
    try:
        reviewed = reviews_from_database(db)
    finally:
        db.dispose()
    assert {(e.sentence, e.judged, tuple(e.expected)) for e in reviewed} == {
        ("限男性，35岁以下。", "sex", ("sex",)), ("限男性，35岁以下。", "age", ()),
    }  # fmt: skip
    result = evaluate(reviewed)
    age = next(c for c in result.per_category if c.category == "age")
    assert (age.flagged, age.correct) == (1, 0)  # the operator's false positive counts against


async def test_postings_stored_before_the_check_existed_are_checked_by_the_migration(
    settings: Settings, app_factory: Callable[..., Any]
) -> None:
    """Migration 0015 checks the postings already there: an unlawful one leaves its fair."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    migrate(engine, "0014")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as connection:
        for tenant in ("szu", "acme"):
            connection.execute(text("INSERT INTO tenants (id, name, created_at) VALUES (:t, :t, :now)"),
                               {"t": tenant, "now": now})  # fmt: skip
        for description in (EXAMPLE, "男女不限。"):
            connection.execute(Job.__table__.insert().values(
                tenant_id="acme", title="仓库管理员", description=description, remote=False,
                employment_type="full_time", required_skills=[], preferred_skills=[],
                benefits=[], private=False, posted_at=now, created_at=now, updated_at=now,
            ))  # fmt: skip
        ids = list(connection.execute(text("SELECT id FROM jobs ORDER BY id")).scalars())
        connection.execute(text("INSERT INTO fairs (id, tenant_id, name, created_at) "
                                "VALUES (:f, 'szu', 'old fair', :now)"), {"f": FAIR, "now": now})  # fmt: skip
        for job_id in ids:
            connection.execute(text("INSERT INTO fair_postings (fair_id, job_id, published_by, "
                                    "created_at) VALUES (:f, :j, 'szu', :now)"),
                               {"f": FAIR, "j": job_id, "now": now})  # fmt: skip
    engine.dispose()
    app = app_factory()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, app)
            unlawful = (await api.get(f"/v1/jobs/{ids[0]}", "acme")).json()["compliance"]
            assert unlawful["status"] == "unlawful" and len(unlawful["flags"]) == 6
            lawful = (await api.get(f"/v1/jobs/{ids[1]}", "acme")).json()["compliance"]
            assert lawful == {"status": "ok", "flags": []}
            shown = (await api.get(f"/v1/fairs/{FAIR}/postings", "acme")).json()
            assert [j["id"] for j in shown] == [ids[1]]
