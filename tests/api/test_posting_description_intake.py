"""Every posting channel runs the same extraction: POST /v1/jobs, PATCH, and JSONL/CSV bulk
loads fill what the description states and the caller left out, each filled field with its
confidence and its span into the description; structured fields win."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

DESCRIPTION = "工作地点：深圳南山区。薪资：15-25K·13薪。要求3年以上Java开发经验，本科"


def assert_shenzhen_java_posting(job: dict[str, Any]) -> None:
    assert (job["city"], job["city_code"]) == ("深圳", 440300)
    assert (job["district"], job["district_code"]) == ("南山", 440305)
    assert (job["salary_min"], job["salary_max"], job["salary_months"]) == (15000, 25000, 13)
    assert job["min_years_experience"] == 3
    assert job["education"] == "bachelor"
    assert job["required_skills"] == ["Java"]
    assert job["language"] == "zh"


def span_text(job: dict[str, Any], field: str) -> str:
    start, end = job["extraction"][field]["span"]
    return str(job["description"][start:end])


async def test_post_fills_missing_fields_from_the_description_with_spans(api: Api) -> None:
    response = await api.post(
        "/v1/jobs", "acme", {"title": "Java开发工程师", "description": DESCRIPTION}
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert_shenzhen_java_posting(job)
    extraction = job["extraction"]
    for field in ("city", "district", "salary", "min_years_experience", "education",
                  "required_skills", "language"):  # fmt: skip
        assert 0 < extraction[field]["confidence"] <= 1, field
    assert "深圳南山" in span_text(job, "city")
    assert "15-25K·13薪" in span_text(job, "salary")
    assert span_text(job, "min_years_experience").startswith("3年以上")
    assert span_text(job, "education") == "本科"
    assert span_text(job, "required_skills") == "Java"
    # The extraction is stored: a later read shows the same.
    fetched = (await api.get(f"/v1/jobs/{job['id']}", "acme")).json()
    assert fetched["extraction"] == extraction and fetched["salary_months"] == 13


async def test_structured_fields_win_and_carry_no_extraction(api: Api) -> None:
    job = await api.create_job(
        "acme", title="Java开发工程师", description=DESCRIPTION, city="广州", salary_min=9000,
        salary_max=12000, education="master", required_skills=["Spring"], language=None,
        district=None, min_years_experience=None, salary_months=None,
    )  # fmt: skip
    assert (job["city"], job["salary_min"], job["salary_max"]) == ("广州", 9000, 12000)
    assert job["education"] == "master" and job["required_skills"] == ["Spring"]
    # A district of another city than the one given is not taken; the salary's months go
    # with the caller's range.
    assert job["district"] is None and job["salary_months"] in (None, 12)
    assert job["min_years_experience"] == 3 and job["language"] == "zh"
    extraction = job["extraction"]
    assert set(extraction) == {"min_years_experience", "language"}


async def test_english_description_is_detected_and_filled(api: Api) -> None:
    text = (
        "Location: Shenzhen, Nanshan. Salary: 30k-45k RMB/month, 14 months. At least 5 years "
        "of experience with Python and Kubernetes. Bachelor's degree required. Full-time."
    )
    job = (
        await api.post("/v1/jobs", "acme", {"title": "Backend Engineer", "description": text})
    ).json()
    assert job["language"] == "en"
    assert (job["city"], job["district"]) == ("深圳", "南山")
    assert (job["salary_min"], job["salary_max"], job["salary_months"]) == (30000, 45000, 14)
    assert job["min_years_experience"] == 5 and job["education"] == "bachelor"
    assert {"Python", "Kubernetes"} <= set(job["required_skills"])


async def test_patch_with_a_new_description_refills_what_came_from_the_old_one(api: Api) -> None:
    job = (
        await api.post(
            "/v1/jobs", "acme",
            {"title": "Java开发工程师", "description": DESCRIPTION, "company": "某科技"},
        )
    ).json()  # fmt: skip
    new_text = "工作地点：广州天河区。月薪：8000-12000元。要求1年以上Python经验，大专学历。"
    patched = await api.patch(f"/v1/jobs/{job['id']}", "acme", {"description": new_text})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["city"], body["district"]) == ("广州", "天河")
    assert (body["salary_min"], body["salary_max"], body["salary_months"]) == (8000, 12000, 12)
    assert body["min_years_experience"] == 1 and body["education"] == "associate"
    assert body["required_skills"] == ["Python"] and body["company"] == "某科技"
    assert "广州天河" in str(body["description"][slice(*body["extraction"]["city"]["span"])])
    # A field set by the caller wins from then on and leaves the extraction.
    again = (
        await api.patch(f"/v1/jobs/{job['id']}", "acme", {"city": "深圳", "district": "福田"})
    ).json()
    assert (again["city"], again["district"]) == ("深圳", "福田")
    assert "city" not in again["extraction"] and "district" not in again["extraction"]


async def wait_done(api: Api, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        body = (await api.get(f"/v1/ingest-jobs/{job_id}", "acme")).json()
        if body["status"] == "done":
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"load {job_id} did not finish")


async def bulk_load(api: Api, name: str, content: bytes) -> dict[str, Any]:
    response = await api.client.post(
        "/v1/jobs:bulk", files={"file": (name, content)}, headers=api.auth("acme")
    )
    assert response.status_code == 202, response.text
    done = await wait_done(api, response.json()["id"])
    assert done["succeeded"] == 1 and done["failed"] == 0, done
    listing = (await api.get("/v1/jobs", "acme")).json()
    return next(j for j in listing["items"] if j["external_id"] == name)


async def test_jsonl_and_csv_loads_run_the_same_extraction(api: Api) -> None:
    record = {"external_id": "load.jsonl", "title": "Java开发工程师", "description": DESCRIPTION}
    from_jsonl = await bulk_load(api, "load.jsonl", json.dumps(record, ensure_ascii=False).encode())
    assert_shenzhen_java_posting(from_jsonl)
    assert "深圳南山" in span_text(from_jsonl, "city")
    csv_text = f'external_id,title,description,city\nload.csv,Java开发工程师,"{DESCRIPTION}",深圳\n'
    from_csv = await bulk_load(api, "load.csv", csv_text.encode())
    assert_shenzhen_java_posting(from_csv)
    assert "city" not in from_csv["extraction"] and "district" in from_csv["extraction"]
