"""The batched posting upsert that bulk loads use behaves like one upsert per record: the
same rows, the same duplicate groups, the same outbox events, and all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput
from core.settings import Settings
from ingestion.sample_data import generate_jobs
from store.db import Database
from store.jobs import upsert_job, upsert_jobs
from store.keys import get_or_create_tenant
from store.models import Job, OutboxEvent


@pytest.fixture
def db(settings: Settings) -> Any:
    database = Database(settings)
    with database.session() as session:
        get_or_create_tenant(session, "acme")
    yield database
    database.dispose()


def repost(fields: dict[str, Any], external_id: str) -> dict[str, Any]:
    """The same posting as another agency would repost it."""
    return {**fields, "external_id": external_id, "title": "急招 " + fields["title"],
            "company": fields["company"] + "(深圳)有限公司"}  # fmt: skip


def test_batch_matches_one_by_one_upserts(db: Database) -> None:
    records = [r.fields for r in generate_jobs(40, seed=11)]
    # Reposts inside the batch (of a record before them) and of a record of an earlier call.
    records += [repost(records[3], "re-3"), repost(records[3], "re-3b"), repost(records[7], "re-7")]
    with db.session() as session:
        upsert_job(session, tenant_id="acme", fields=records[0])
        first_id = session.scalar(select(Job.id))
    batch = [*records[1:], repost(records[0], "re-0")]
    with db.session() as session:
        results = upsert_jobs(session, tenant_id="acme", records=batch)
        assert all(created for _, created in results)
    with db.session() as session:
        rows = {j.external_id: j for j in session.scalars(select(Job))}
        assert len(rows) == 44
        original_3 = rows[records[3]["external_id"]]
        assert original_3.duplicate_of is None
        assert rows["re-3"].duplicate_of == original_3.id
        assert rows["re-3b"].duplicate_of == original_3.id  # the group, not the first repost
        assert rows["re-7"].duplicate_of == rows[records[7]["external_id"]].id
        assert rows["re-0"].duplicate_of == first_id
        grouped = sum(1 for j in rows.values() if j.duplicate_of is not None)
        assert grouped == 4
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 44


def test_same_external_id_twice_in_a_batch_updates(db: Database) -> None:
    base = next(iter(generate_jobs(1, seed=3))).fields
    with db.session() as session:
        results = upsert_jobs(
            session,
            tenant_id="acme",
            records=[
                {**base, "external_id": "x"},
                {**base, "external_id": "x", "title": "Go 工程师"},
            ],
        )
        assert [created for _, created in results] == [True, False]
    with db.session() as session:
        assert [j.title for j in session.scalars(select(Job))] == ["Go 工程师"]
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 1


def test_an_invalid_record_writes_nothing_of_the_batch(db: Database) -> None:
    good = [r.fields for r in generate_jobs(5, seed=8)]
    with pytest.raises(InvalidInput) as raised, db.session() as session:
        upsert_jobs(session, tenant_id="acme", records=[*good, {**good[0], "education": "PhD?"}])
    assert raised.value.field == "education"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
