"""The same person arriving twice within a tenant becomes one profile with both sources."""

from __future__ import annotations

import pytest

from bench.resume_corpus import build_corpus
from tests.conftest import Api, candidate_payload

pytestmark = pytest.mark.anyio


async def test_same_email_merges_and_records_both_sources(api: Api) -> None:
    first = await api.post(
        "/v1/candidates",
        "acme",
        candidate_payload(
            external_id="board-1", email="Li.Na@Example.com", skills=["Python"], city="深圳"
        ),
    )
    second = await api.post(
        "/v1/candidates",
        "acme",
        candidate_payload(
            external_id="agency-7",
            email="li.na@example.com",
            skills=["Go", "Python"],
            summary="更新的简历",
        ),
    )
    assert (first.status_code, second.status_code) == (201, 200)
    merged = second.json()
    assert merged["id"] == first.json()["id"]
    assert merged["skills"] == ["Go", "Python"] and merged["summary"] == "更新的简历"
    assert [(s["external_id"], s["matched_on"]) for s in merged["sources"]] == [
        ("board-1", None),
        ("agency-7", "email"),
    ]
    assert (await api.get("/v1/candidates", "acme")).json()["total"] == 1
    # Sending the second source again updates the same profile.
    again = await api.post(
        "/v1/candidates",
        "acme",
        candidate_payload(external_id="agency-7", email="li.na@example.com"),
    )
    assert again.json()["id"] == merged["id"]


async def test_same_phone_in_another_format_merges(api: Api) -> None:
    a = await api.create_candidate("acme", email="a@example.com", phone="+86 138-0000-1234")
    b = await api.create_candidate("acme", email="b@example.com", phone="13800001234")
    assert a["id"] == b["id"]
    assert b["sources"][-1]["matched_on"] == "phone"


async def test_near_identical_resume_files_merge(api: Api) -> None:
    resume = build_corpus(2)[0]
    text = (
        await api.client.post(
            "/v1/candidates/files",
            files=[("files", (resume.filename, resume.content))],
            headers=api.auth("acme"),
        )
    ).json()["results"][0]
    # The same résumé pasted as text, with the contacts removed and a line added.
    profile = (await api.get(f"/v1/candidates/{text['id']}", "acme")).json()
    pasted = (
        profile["resume_text"].replace(profile["email"], "").replace(profile["phone"], "")
        + "\n补充：可立即到岗"
    )
    response = await api.post(
        "/v1/candidates", "acme", {"resume_text": pasted, "external_id": "paste-1"}
    )
    assert response.json()["id"] == text["id"]
    assert response.json()["sources"][-1]["matched_on"] == "resume"


async def test_people_are_never_merged_across_tenants(api: Api) -> None:
    a = await api.create_candidate("acme", email="same@example.com")
    b = await api.create_candidate("globex", email="same@example.com")
    assert a["id"] != b["id"]


async def test_different_people_stay_apart(api: Api) -> None:
    a = await api.create_candidate("acme")
    b = await api.create_candidate("acme")
    assert a["id"] != b["id"]
