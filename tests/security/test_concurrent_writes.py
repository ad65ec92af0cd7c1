"""Idempotent upserts stay idempotent under concurrency: the same external id sent by several
clients at once gives one record and only 200/201 answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from store.db import Database
from store.models import Candidate, Job
from tests.conftest import Api, candidate_payload, job_payload

pytestmark = pytest.mark.anyio
CLIENTS = 8
ROUNDS = 4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Without request limits: the bursts here are about races, not the limiter."""
    return settings.model_copy(
        update={"auth": settings.auth.model_copy(update={"rate_limits_per_minute": {}})}
    )


def _rows(api: Api, model: type[Job] | type[Candidate], external_id: str) -> int:
    db = Database(api.settings)
    try:
        with db.session() as session:
            query = select(func.count()).select_from(model).where(model.external_id == external_id)
            return int(session.scalar(query) or 0)
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("path", "model", "payload", "varied"),
    [
        ("/v1/jobs", Job, job_payload, "title"),
        ("/v1/candidates", Candidate, candidate_payload, "summary"),
    ],
    ids=["jobs", "candidates"],
)
async def test_concurrent_upserts_of_one_external_id(
    api: Api,
    path: str,
    model: type[Job] | type[Candidate],
    payload: Callable[[], dict[str, Any]],
    varied: str,
) -> None:
    for round_ in range(ROUNDS):
        external_id = f"race-{round_}"
        bodies = [
            {**payload(), "external_id": external_id, varied: f"后端工程师 版本{i}"}
            for i in range(CLIENTS)
        ]
        responses = await asyncio.gather(*(api.post(path, "acme", body) for body in bodies))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (CLIENTS - 1) + [201], [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
        assert _rows(api, model, external_id) == 1


async def test_concurrent_fair_writes(api: Api) -> None:
    """The same fair created, and the same posting shown there, by several requests at once."""
    fair_key = api.new_key("szu-office", "fair")
    headers = {"Authorization": f"Bearer {fair_key}"}
    job = await api.create_job("acme")
    for round_ in range(ROUNDS):
        fair_id = f"fair-{round_}"
        created = await asyncio.gather(*(
            api.client.post("/v1/fairs", json={"id": fair_id, "name": f"招聘会 {i}"}, headers=headers)
            for i in range(CLIENTS)
        ))  # fmt: skip
        assert sorted(r.status_code for r in created) == [200] * (CLIENTS - 1) + [201], [
            r.text for r in created
        ]
        shown = await asyncio.gather(*(
            api.client.put(f"/v1/fairs/{fair_id}/postings/{job['id']}", headers=headers)
            for _ in range(CLIENTS)
        ))  # fmt: skip
        assert sorted(r.status_code for r in shown) == [200] * (CLIENTS - 1) + [201], [
            r.text for r in shown
        ]
        listed = await api.client.get(f"/v1/fairs/{fair_id}/postings", headers=headers)
        assert [p["id"] for p in listed.json()] == [job["id"]]
