"""Personal information under PIPL: contacts encrypted at rest and redacted unless the key
may see them, consent from partner apps, audited reads, export, and erasure that leaves
nothing behind in the database, the index or the files."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.settings import Settings
from store.db import Database
from store.models import AuditEvent, EmbeddingCacheEntry, Feedback
from tests.conftest import Api
from tests.security.test_data_lifecycle import keyword_segments

pytestmark = pytest.mark.anyio
RESUME = """林晓雯
电话：13912340001  邮箱：linxiaowen@example.com
身份证：440301199003071234
现居地：深圳
求职意向：数据分析师
工作经验：5年
技能：Python、SQL、Tableau
工作经历
2020.01 - 至今 某科技公司 数据分析师 负责用户增长分析与看板建设。"""
CONSENT = {"purpose": "job matching", "granted_at": "2026-11-20T10:00:00Z", "text_version": "v3"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def raw_bytes(settings: Settings) -> bytes:
    """Every byte the SQLite database holds on disk (main file and write-ahead log)."""
    data_dir = settings.data_dir
    return b"".join(p.read_bytes() for p in data_dir.glob("talentmatch.db*") if p.is_file())


async def test_contacts_are_encrypted_at_rest(api: Api, settings: Settings) -> None:
    person = await api.create_candidate("acme", resume_text=RESUME, email=None, phone=None,
                                        name=None, summary=None, experience=[], skills=[])  # fmt: skip
    assert person["email"] == "linxiaowen@example.com"  # an agency key may see contacts
    db = Database(settings)
    try:
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT email, phone, resume_text, extraction, email_key "
                                          "FROM candidates")).one()  # fmt: skip
        assert all(str(value).startswith("enc1:") for value in row[:4])
        assert len(row[4]) == 64 and "example" not in row[4]  # a keyed digest
        if db.engine.dialect.name == "sqlite":
            db.reclaim_deleted_space()
            stored = raw_bytes(settings)
            for secret in ("linxiaowen@example.com", "13912340001", "440301199003071234"):
                assert secret.encode() not in stored
    finally:
        db.dispose()


async def test_contacts_are_redacted_without_the_contact_scope_and_in_results(api: Api) -> None:
    person = await api.create_candidate("acme", resume_text=RESUME, email=None, phone=None,
                                        name=None, summary=None, experience=[], skills=[])  # fmt: skip
    no_contacts = api.new_key("acme", "agency", scopes=["candidates:read", "match", "jobs:read"])
    seen = (
        await api.client.get(f"/v1/candidates/{person['id']}", headers=bearer(no_contacts))
    ).json()
    assert seen["email"] == "l***@example.com" and seen["phone"] == "139****0001"
    assert "13912340001" not in str(seen) and "440301199003071234" not in str(seen)
    assert "440301********1234" in seen["resume_text"]
    # Search and match results never carry contacts, whatever the key.
    found = (await api.post("/v1/search/candidates", "acme", {"query": "数据分析师"})).json()
    assert found["hits"] and "13912340001" not in str(found) and "linxiaowen@" not in str(found)
    job = await api.create_job("acme", title="数据分析师", required_skills=["SQL"])
    matches = (await api.get(f"/v1/jobs/{job['id']}/matches", "acme")).json()
    assert matches["matches"] and "13912340001" not in str(matches)


async def test_partner_apps_need_consent(api: Api) -> None:
    partner = api.new_key("jobapp", "partner")
    refused = await api.client.post(
        "/v1/candidates", json={"resume_text": RESUME}, headers=bearer(partner)
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "consent"
    created = await api.client.post("/v1/candidates", json={"resume_text": RESUME, "consent": CONSENT},
                                    headers=bearer(partner))  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "l***@example.com"  # partners' default scopes: no contacts
    bulk = await api.client.post("/v1/candidates:bulk", files={"file": ("p.jsonl", b'{"name": "x"}')},
                                 headers=bearer(partner))  # fmt: skip
    assert bulk.status_code == 403
    upload = await api.client.post("/v1/candidates/files", files=[("files", ("cv.txt", RESUME.encode()))],
                                   headers=bearer(partner))  # fmt: skip
    assert upload.status_code == 403
    exported = await api.client.get(f"/v1/candidates/{created.json()['id']}/export",
                                    params={"purpose": "user request"}, headers=bearer(partner))  # fmt: skip
    assert exported.json()["consents"] == [{**CONSENT, "granted_at": "2026-11-20T10:00:00+00:00",
                                            "recorded_at": exported.json()["consents"][0]["recorded_at"]}]  # fmt: skip


async def test_reads_and_exports_are_audited(api: Api) -> None:
    upload = await api.client.post("/v1/candidates/files", files=[("files", ("cv.txt", RESUME.encode()))],
                                   headers=api.auth("acme"))  # fmt: skip
    person_id = upload.json()["results"][0]["id"]
    await api.get(f"/v1/candidates/{person_id}", "acme", params={"purpose": "screening for job 7"})
    no_purpose = await api.get(f"/v1/candidates/{person_id}/export", "acme")
    assert no_purpose.status_code == 422
    export = (
        await api.get(f"/v1/candidates/{person_id}/export", "acme", params={"purpose": "DSAR-17"})
    ).json()
    assert export["candidate"]["email"] == "linxiaowen@example.com"
    assert export["files"][0]["filename"] == "cv.txt" and "数据分析师" in export["files"][0]["text"]
    assert [(e["action"], e["purpose"]) for e in export["audit"]] == [
        ("read", "screening for job 7"), ("export", "DSAR-17")]  # fmt: skip
    # Another tenant can neither read nor export the profile.
    assert (
        await api.get(f"/v1/candidates/{person_id}/export", "globex", params={"purpose": "x"})
    ).status_code == 404


async def test_erasure_leaves_nothing_behind(api: Api, settings: Settings) -> None:
    upload = await api.client.post("/v1/candidates/files", files=[("files", ("cv.txt", RESUME.encode()))],
                                   headers=api.auth("acme"))  # fmt: skip
    person_id = upload.json()["results"][0]["id"]
    job = await api.create_job("acme", title="数据分析师", required_skills=["SQL"])
    feedback = await api.post("/v1/feedback", "acme", {"job_id": job["id"], "candidate_id": person_id,
                                                       "action": "shortlisted"})  # fmt: skip
    assert feedback.status_code == 201
    found = (
        await api.post(
            "/v1/search/candidates", "acme", {"query": "用户增长分析", "mode": "keyword"}
        )
    ).json()
    assert [h["id"] for h in found["hits"]] == [person_id]  # the résumé is indexed
    files_before = list((settings.data_dir / "files").rglob("*"))
    assert any(p.is_file() for p in files_before)
    # A read whose free-text purpose names the person: the audit trail must not keep it.
    read = await api.get(f"/v1/candidates/{person_id}", "acme", params={"purpose": "call 林晓雯"})
    assert read.status_code == 200

    segments_before = keyword_segments(settings.index_dir / "candidates")
    erased = await api.delete(f"/v1/candidates/{person_id}?purpose=user%20request", "acme")
    assert erased.status_code == 204
    assert (await api.get(f"/v1/candidates/{person_id}", "acme")).status_code == 404
    gone = (await api.post("/v1/search/candidates", "acme", {"query": "林晓雯 数据分析师"})).json()
    assert person_id not in [h["id"] for h in gone["hits"]]
    secrets = [
        "林晓雯",
        "linxiaowen@example.com",
        "13912340001",
        "440301199003071234",
        "用户增长分析",
    ]
    # Files: the upload's content file is gone.
    assert not [p for p in (settings.data_dir / "files").rglob("*") if p.is_file()]
    # Index: after the purge (due at once in tests) the segments that held the profile are
    # gone (terms compress inside a segment, so the byte search below alone proves little).
    assert segments_before and not segments_before & keyword_segments(
        settings.index_dir / "candidates"
    )
    index_bytes = b"".join(p.read_bytes() for p in settings.index_dir.rglob("*") if p.is_file())
    for secret in secrets:
        assert secret.encode() not in index_bytes, secret
    db = Database(settings)
    try:
        with db.session() as session:
            assert session.scalars(select(Feedback)).all() == []
            assert session.scalars(select(EmbeddingCacheEntry)).all() != []  # the posting's
            # Who read and erased the profile, when, by id: no free text survives.
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            assert [(e.action, e.entity_id, e.purpose) for e in events] == [
                ("read", person_id, None), ("erase", person_id, None)]  # fmt: skip
        if db.engine.dialect.name == "sqlite":
            stored = raw_bytes(settings)
            for secret in secrets:
                assert secret.encode() not in stored, secret
    finally:
        db.dispose()


def test_production_requires_a_data_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="DATA_KEY"):
        Settings(
            environment="production", data_dir=tmp_path, auth={"key_pepper": secrets.token_hex(32)}
        )
