"""Bulk loads over HTTP and from the command line: progress, per-line errors, CSV in GB18030,
zips of résumés, and a kill -9 in the middle that loses and repeats nothing."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.resume_corpus import build_corpus
from core.settings import Settings
from ingestion.sample_data import generate_jobs
from store.db import Database
from store.models import IngestJob, Job
from tests.conftest import Api


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in records).encode()


async def wait_done(api: Api, job_id: str, tenant: str = "acme") -> dict[str, Any]:
    for _ in range(600):
        body = (await api.get(f"/v1/ingest-jobs/{job_id}", tenant)).json()
        if body["status"] == "done":
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"load {job_id} did not finish")


async def post_bulk(api: Api, path: str, name: str, content: bytes) -> dict[str, Any]:
    response = await api.client.post(
        path, files={"file": (name, content)}, headers=api.auth("acme")
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


@pytest.mark.anyio
async def test_jsonl_load_reports_progress_and_line_errors(api: Api) -> None:
    good = [r.fields for r in generate_jobs(30, seed=5)]
    lines = good[:10] + [{"title": ""}] + good[10:20] + ["not an object"] + good[20:]  # type: ignore[list-item]
    content = jsonl(lines).replace(b'"not an object"', b"{broken json")
    job = await post_bulk(api, "/v1/jobs:bulk", "jobs.jsonl", content)
    assert job["total"] == 32
    done = await wait_done(api, job["id"])
    assert (done["succeeded"], done["failed"], done["done"]) == (30, 2, 32)
    assert sorted((e["line"], e["field"]) for e in done["errors"]) == [(11, "title"), (22, None)]
    assert done["rate_per_s"] > 0
    assert (await api.get("/v1/jobs", "acme")).json()["total"] == 30
    # Indexed as the load went: searchable now.
    assert (await api.search_jobs("acme", "", page_size=50))[
        "total"
    ] >= 28  # private ones excluded? no: own
    again = await post_bulk(api, "/v1/jobs:bulk", "jobs.jsonl", content)
    await wait_done(api, again["id"])
    assert (await api.get("/v1/jobs", "acme")).json()["total"] == 30  # upserts, no duplicates


@pytest.mark.anyio
async def test_csv_in_gb18030_with_list_fields(api: Api) -> None:
    csv_text = (
        "title,company,city,salary_min,salary_max,required_skills,education\n"
        "会计,深圳市测试有限公司,深圳,8000,12000,会计|税务|金蝶,大专\n"
        "Java开发,某科技,广州,15000,25000,Java;Spring Boot,本科\n"
        "坏记录,某公司,深圳,30000,20000,,本科\n"
    )
    job = await post_bulk(api, "/v1/jobs:bulk", "jobs.csv", csv_text.encode("gb18030"))
    done = await wait_done(api, job["id"])
    assert (done["succeeded"], done["failed"]) == (2, 1)
    assert done["errors"][0]["line"] == 4 and done["errors"][0]["field"] == "salary_min"
    items = (await api.get("/v1/jobs", "acme", params={"page_size": 10})).json()["items"]
    accountant = next(j for j in items if j["title"] == "会计")
    assert (
        accountant["required_skills"] == ["会计", "税务", "金蝶"]
        and accountant["education"] == "associate"
    )


@pytest.mark.anyio
async def test_zip_of_resumes(api: Api) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for resume in build_corpus(4):
            archive.writestr(f"inbox/{resume.filename}", resume.content)
        archive.writestr("inbox/notes.exe", b"MZ")
    job = await post_bulk(api, "/v1/candidates:bulk", "resumes.zip", buffer.getvalue())
    done = await wait_done(api, job["id"])
    assert (done["succeeded"], done["failed"]) == (4, 1)
    assert done["errors"][0]["file"] == "notes.exe"
    assert (await api.get("/v1/candidates", "acme")).json()["total"] == 4


def test_cli_load_killed_midway_resumes_exactly_once(tmp_path: Path) -> None:
    records = [r.fields for r in generate_jobs(3000, seed=9)]
    source = tmp_path / "postings.jsonl"
    source.write_bytes(jsonl(records))
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
    env["TALENTMATCH_DATA_DIR"] = str(data_dir)
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "ingest",
        str(source),
        "--kind",
        "jobs",
        "--tenant",
        "acme",
    ]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    settings = Settings(environment="test", data_dir=data_dir)
    deadline = time.monotonic() + 120
    position = 0
    while time.monotonic() < deadline and position == 0:
        time.sleep(0.05)
        if (data_dir / "talentmatch.db").exists():
            db = Database(settings)
            with db.session() as session:
                position = session.scalar(select(func.max(IngestJob.position))) or 0
            db.dispose()
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert 0 < position < 3000, "the load should be killed in the middle"
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "resuming load" in second.stderr
    db = Database(settings)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 3000
        assert session.scalar(select(func.count(func.distinct(Job.external_id)))) == 3000
        job = session.scalars(select(IngestJob)).one()
        assert (job.status, job.position, job.succeeded, job.failed) == ("done", 3000, 3000, 0)
    db.dispose()
