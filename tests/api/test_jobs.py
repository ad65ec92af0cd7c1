"""Postings through the REST API: upsert, read, patch, delete, list, and bad input."""

from __future__ import annotations

import pytest

from tests.conftest import Api, job_payload

pytestmark = pytest.mark.anyio


async def test_create_then_read_normalizes_place_and_education(api: Api) -> None:
    created = await api.create_job("acme", city="Shenzhen", district="Nanshan", education="本科")
    assert created["id"] > 0
    assert (created["city"], created["city_code"]) == ("深圳", 440300)
    assert (created["district"], created["district_code"]) == ("南山", 440305)
    assert created["education"] == "bachelor"
    fetched = await api.get(f"/v1/jobs/{created['id']}", "acme")
    assert fetched.status_code == 200
    assert fetched.json()["title"] == "Python后端开发工程师"


async def test_post_with_known_external_id_updates_instead_of_duplicating(api: Api) -> None:
    first = await api.post("/v1/jobs", "acme", job_payload(external_id="ext-1", title="Java工程师"))
    assert first.status_code == 201
    second = await api.post("/v1/jobs", "acme", job_payload(external_id="ext-1", title="Go工程师"))
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    listing = (await api.get("/v1/jobs", "acme")).json()
    assert listing["total"] == 1
    assert listing["items"][0]["title"] == "Go工程师"
    # The same external id in another tenant is another posting.
    other = await api.post("/v1/jobs", "globex", job_payload(external_id="ext-1"))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_patch_changes_only_given_fields_and_reindexes(api: Api) -> None:
    job = await api.create_job(
        "acme", title="会计", required_skills=["会计"], description="账务处理"
    )
    response = await api.patch(f"/v1/jobs/{job['id']}", "acme", {"title": "Rust systems engineer"})
    assert response.status_code == 200
    assert response.json()["title"] == "Rust systems engineer"
    assert response.json()["description"] == "账务处理"
    hits = (await api.search_jobs("acme", "Rust", mode="keyword"))["hits"]
    assert [h["id"] for h in hits] == [job["id"]]


async def test_delete_removes_from_database_and_index(api: Api) -> None:
    job = await api.create_job("acme", title="Kotlin Android developer", required_skills=["Kotlin"])
    assert (await api.search_jobs("acme", "Kotlin", mode="keyword"))["total"] == 1
    assert (await api.delete(f"/v1/jobs/{job['id']}", "acme")).status_code == 204
    assert (await api.get(f"/v1/jobs/{job['id']}", "acme")).status_code == 404
    assert (await api.search_jobs("acme", "Kotlin", mode="keyword"))["total"] == 0
    assert (await api.delete(f"/v1/jobs/{job['id']}", "acme")).status_code == 404


async def test_list_pages_newest_first(api: Api) -> None:
    for day in range(1, 6):
        await api.create_job("acme", title=f"Job {day}", posted_at=f"2026-10-0{day}T08:00:00Z")
    page1 = (await api.get("/v1/jobs", "acme", params={"page": 1, "page_size": 2})).json()
    page3 = (await api.get("/v1/jobs", "acme", params={"page": 3, "page_size": 2})).json()
    assert page1["total"] == 5
    assert [j["title"] for j in page1["items"]] == ["Job 5", "Job 4"]
    assert [j["title"] for j in page3["items"]] == ["Job 1"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (job_payload(colour="red"), "colour"),
        (job_payload(salary_min="lots"), "salary_min"),
        (job_payload(salary_min=30000, salary_max=20000), "salary_min"),
        (job_payload(title=""), "title"),
        (job_payload(title="   "), "title"),
        (job_payload(employment_type="forever"), "employment_type"),
        (job_payload(education="kindergarten"), "education"),
        (job_payload(required_skills="Python"), "required_skills"),
        ({k: v for k, v in job_payload().items() if k != "title"}, "title"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    api: Api, payload: dict, field: str
) -> None:
    response = await api.post("/v1/jobs", "acme", payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]
    assert (await api.get("/v1/jobs", "acme")).json()["total"] == 0


async def test_patch_that_inverts_salary_is_rejected_and_changes_nothing(api: Api) -> None:
    job = await api.create_job("acme", salary_min=20000, salary_max=30000)
    response = await api.patch(f"/v1/jobs/{job['id']}", "acme", {"salary_min": 40000})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "salary_min"
    assert (await api.get(f"/v1/jobs/{job['id']}", "acme")).json()["salary_min"] == 20000


async def test_malformed_json_and_oversize_bodies_are_rejected(api: Api) -> None:
    response = await api.client.post(
        "/v1/jobs",
        content=b"{not json",
        headers={**api.auth("acme"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    big = job_payload(description="x" * 1_100_000)
    response = await api.post("/v1/jobs", "acme", big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert (await api.get("/v1/jobs", "acme")).json()["total"] == 0


async def test_unknown_route_and_method_use_the_error_shape(api: Api) -> None:
    response = await api.get("/v1/nothing-here", "acme")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
