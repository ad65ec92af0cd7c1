"""Loads the bilingual sample data set for the demo (idempotent: upserts by external id)."""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.sample_data import generate_candidates, generate_jobs
from search_index.sync import IndexSync
from store.candidates import upsert_candidate
from store.db import Database
from store.jobs import upsert_job
from store.keys import get_or_create_tenant

DEMO_TENANT = "demo-agency"
# A second agency whose postings are public and whose candidates the demo tenant never sees.
OTHER_TENANT = "other-agency"


@dataclass(frozen=True)
class DemoCounts:
    jobs: int
    candidates: int


def load_demo(
    db: Database, sync: IndexSync, *, jobs: int = 300, candidates: int = 150, batch_size: int = 100
) -> DemoCounts:
    """Sample postings (split between two agencies) and the demo agency's candidates."""
    with db.session() as session:
        get_or_create_tenant(session, DEMO_TENANT, "Demo Recruiting Agency")
        get_or_create_tenant(session, OTHER_TENANT, "Another Agency")
    records = list(generate_jobs(jobs))
    for start in range(0, len(records), batch_size):
        with db.session() as session:
            for offset, record in enumerate(records[start : start + batch_size]):
                tenant = DEMO_TENANT if (start + offset) % 3 else OTHER_TENANT
                upsert_job(session, tenant_id=tenant, fields=record.fields)
        sync.drain()
    people = list(generate_candidates(candidates))
    for start in range(0, len(people), batch_size):
        with db.session() as session:
            for record in people[start : start + batch_size]:
                upsert_candidate(session, tenant_id=DEMO_TENANT, fields=record.fields)
        sync.drain()
    sync.checkpoint()
    return DemoCounts(jobs=len(records), candidates=len(people))
