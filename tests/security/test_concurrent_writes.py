"""Idempotent upserts stay idempotent under concurrency: the same external id sent by several
clients at once gives one record and only 200/201 answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from store.db import Database
from store.models import Candidate, Job
from tests.conftest import Api, candidate_payload, job_payload

pytestmark = pytest.mark.anyio
CLIENTS = 8
ROUNDS = 4


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
