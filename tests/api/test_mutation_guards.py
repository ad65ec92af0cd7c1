"""Behaviour that once had no test able to notice its removal: the posting search re-ranker,
the hard-mismatch penalty of matching, and outbox events reaching a running service."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from matching.ranker import default_model
from store.db import Database
from store.ranker_models import save_model
from tests.conftest import Api

pytestmark = pytest.mark.anyio

POSTINGS = [
    {"title": "Backend Developer", "language": "en", "required_skills": ["Python", "Go"],
     "preferred_skills": [],
     "description": "Build backend services and APIs in Python and Go for our payment platform."},
    {"title": "销售工程师", "language": "zh", "required_skills": [], "preferred_skills": [],
     "description": "负责工业设备销售，客户开发与维护。"},
    {"title": "前端开发工程师", "language": "zh", "required_skills": ["Vue"], "preferred_skills": [],
     "description": "负责网页前端开发，熟悉 Vue 与 React。"},
    {"title": "Senior Backend Engineer", "language": "en", "required_skills": ["Java"],
     "preferred_skills": [],
     "description": "Design distributed backend systems, microservices, databases."},
    {"title": "机械设计工程师", "language": "zh", "required_skills": ["AutoCAD"],
     "preferred_skills": [], "description": "负责机械结构设计与图纸绘制。"},
]  # fmt: skip


async def test_a_backend_query_in_chinese_ranks_an_english_backend_posting_above_a_mechanical_one(
    api: Api,
) -> None:
    ids = {}
    for posting in POSTINGS:
        ids[(await api.create_job("acme", **posting))["id"]] = posting["title"]
    found = await api.search_jobs("acme", "后端开发工程师")
    order = [ids[hit["id"]] for hit in found["hits"]]
    # Fusion by rank alone counts the stray token 工程师 of a mechanical design posting as
    # much as the vectors' match of a backend posting in English; the re-ranker weighs each
    # signal's strength.
    assert order.index("Senior Backend Engineer") < order.index("机械设计工程师"), order
    assert order[0] == "前端开发工程师", order  # the same words, the nearest occupation


def _activate_model_without_location_and_salary_weights(api: Api, tenant: str) -> None:
    """A tenant model where location and salary weigh nothing: only the hard-mismatch
    penalty can then set apart two candidates who differ in city and expected pay."""
    fields = default_model().__dict__ | {"version": f"{tenant}-1", "mismatch_penalty": 0.8}
    fields["weights"] = {**fields["weights"], "location": 0.0, "salary": 0.0}
    fields["for_seekers"] = None
    db = Database(api.settings)
    try:
        with db.session() as session:
            save_model(session, tenant, fields, {"note": "test"}, activate=True)
    finally:
        db.dispose()


async def test_hard_mismatches_rank_an_otherwise_equal_candidate_lower(api: Api) -> None:
    job = await api.create_job("acme", city="深圳", salary_min=20000, salary_max=30000)
    local = await api.create_candidate("acme", city="深圳", desired_salary_min=25000)
    away = await api.create_candidate("acme", city="北京", desired_salary_min=45000)
    _activate_model_without_location_and_salary_weights(api, "acme")
    ranked = (await api.get(f"/v1/jobs/{job['id']}/matches", "acme")).json()["matches"]
    by_id = {m["id"]: m for m in ranked}
    assert sorted(by_id[away["id"]]["hard_mismatches"]) == ["location", "salary"]
    assert by_id[local["id"]]["hard_mismatches"] == []
    # Every weighted factor is the same for both; the two mismatches cost a visible margin.
    assert by_id[local["id"]]["score"] - by_id[away["id"]]["score"] >= 0.05
    assert [m["id"] for m in ranked].index(local["id"]) < [m["id"] for m in ranked].index(
        away["id"]
    )
    # The same from the seekers' side: the Beijing candidate's list shows the posting lower.
    theirs = (await api.get(f"/v1/candidates/{away['id']}/matches", "acme")).json()["matches"]
    mine = (await api.get(f"/v1/candidates/{local['id']}/matches", "acme")).json()["matches"]
    assert theirs[0]["score"] < mine[0]["score"]


WRITE_AND_DIE = """
import os, signal
from pathlib import Path
from core.settings import Settings
from store.db import Database
from store.jobs import upsert_job
from store.keys import get_or_create_tenant
settings = Settings(environment="test", data_dir=Path({data_dir!r}), db={{"url": {url!r}}})
db = Database(settings)
with db.session() as session:
    get_or_create_tenant(session, "acme")
    upsert_job(session, tenant_id="acme", fields={{"title": "Outbox Haskell engineer",
               "description": "Haskell compilers", "external_id": "other-process-1"}})
# Dead right after the commit: nothing of this process indexes anything.
os.kill(os.getpid(), signal.SIGKILL)
"""


async def test_a_running_service_sees_another_process_write_through_the_outbox(api: Api) -> None:
    await api.create_job("acme", title="Python后端开发工程师")  # the service is up and serving
    assert (await api.search_jobs("acme", "Haskell", mode="keyword"))["hits"] == []
    script = WRITE_AND_DIE.format(data_dir=str(api.settings.data_dir), url=api.settings.db.url)
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == -signal.SIGKILL, result.stderr
    # No restart, so no start-up rebuild: only the outbox can bring the posting here.
    deadline = time.monotonic() + 30
    titles: list[str] = []
    while time.monotonic() < deadline:
        found = await api.search_jobs("acme", "Haskell", mode="keyword")
        titles = [hit["job"]["title"] for hit in found["hits"]]
        if titles:
            break
        await asyncio.sleep(0.2)
    assert titles == ["Outbox Haskell engineer"]
