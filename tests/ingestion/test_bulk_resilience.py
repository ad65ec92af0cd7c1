"""One record that cannot be stored never holds back a bulk load: it becomes that line's
error, the other records are stored, and the load ends "done", also when it is resumed
after a restart. Before, such a record left the load "running 0/3" and failed again at
every start."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.conftest import Api, job_payload

pytestmark = pytest.mark.anyio

# Records that the database cannot hold as they were accepted before: a time before year 1
# in UTC (Python and both databases overflow), a NUL byte (PostgreSQL refuses it in text),
# an external id longer than its column (PostgreSQL refuses it).
BAD_RECORDS: dict[str, tuple[dict[str, Any], str]] = {
    "posted_at_before_year_1": ({"posted_at": "0001-01-01T00:00:00+05:00"}, "posted_at"),
    "posted_at_after_year_9999": ({"posted_at": "9999-12-31T23:59:59-05:00"}, "posted_at"),
    "nul_in_title": ({"title": "Java\x00工程师"}, "title"),
    "nul_in_skill": ({"required_skills": ["Java\x00"]}, "required_skills.0"),
    "external_id_too_long": ({"external_id": "x" * 250}, "external_id"),
}


def three_postings(bad: dict[str, Any]) -> bytes:
    records = [
        job_payload(title="Python 工程师", external_id="first"),
        job_payload(**{"title": "Java 工程师", "external_id": "second", **bad}),
        job_payload(title="Go 工程师", external_id="third"),
    ]
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()


async def wait_done(api: Api, job_id: str) -> dict[str, Any]:
    for _ in range(400):
        body = (await api.get(f"/v1/ingest-jobs/{job_id}", "acme")).json()
        if body["status"] == "done":
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"load {job_id} did not finish: {body}")


async def stored_titles(api: Api) -> set[str]:
    return {j["title"] for j in (await api.get("/v1/jobs", "acme")).json()["items"]}


@pytest.mark.parametrize("case", BAD_RECORDS)
async def test_a_record_that_cannot_be_stored_is_a_line_error_and_the_load_goes_on(
    api: Api, case: str
) -> None:
    bad, field = BAD_RECORDS[case]
    response = await api.client.post(
        "/v1/jobs:bulk",
        files={"file": ("jobs.jsonl", three_postings(bad))},
        headers=api.auth("acme"),
    )
    assert response.status_code == 202, response.text
    done = await wait_done(api, response.json()["id"])
    assert (done["total"], done["done"], done["succeeded"], done["failed"]) == (3, 3, 2, 1)
    [error] = done["errors"]
    assert (error["line"], error["field"]) == (2, field)
    assert await stored_titles(api) == {"Python 工程师", "Go 工程师"}


async def test_a_csv_load_with_a_bad_record_finishes(api: Api) -> None:
    csv_text = (
        "title,external_id,posted_at\n"
        "Python 工程师,first,2026-11-01T09:00:00+08:00\n"
        "Java 工程师,second,0001-01-01T00:00:00+05:00\n"
        "Go 工程师,third,\n"
    )
    response = await api.client.post(
        "/v1/jobs:bulk", files={"file": ("jobs.csv", csv_text.encode())}, headers=api.auth("acme")
    )
    done = await wait_done(api, response.json()["id"])
    assert (done["succeeded"], done["failed"]) == (2, 1)
    assert [e["line"] for e in done["errors"]] == [3]


async def test_a_load_with_a_bad_record_resumed_after_a_restart_finishes(
    app_factory: Callable[..., Any], settings: Settings
) -> None:
    content = three_postings(BAD_RECORDS["posted_at_before_year_1"][0])
    # First run: the load is accepted, then the server stops before its worker gets to it
    # (as a crash or a deploy would leave it: "queued", nothing stored).
    first = app_factory()
    async with first.router.lifespan_context(first):
        transport = httpx.ASGITransport(app=first)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, first)
            first.state.runtime.ingest.stop()
            response = await client.post(
                "/v1/jobs:bulk", files={"file": ("jobs.jsonl", content)}, headers=api.auth("acme")
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
            assert (await api.get(f"/v1/ingest-jobs/{job_id}", "acme")).json()["status"] == "queued"
    # The restart resumes it, and the bad record no longer stops it.
    second = app_factory()
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            api = Api(client, settings, second)
            done = await wait_done(api, job_id)
            assert (done["succeeded"], done["failed"]) == (2, 1)
            assert await stored_titles(api) == {"Python 工程师", "Go 工程师"}
