"""Loads the bilingual sample data set for the demo (idempotent: upserts by external id),
and a demo career fair with a browser key for the widget's demo page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from core.errors import Unauthorized
from ingestion.resume_text import with_resume_extraction
from ingestion.sample_data import generate_candidates, generate_jobs
from search_index.sync import IndexSync
from store.candidates import upsert_candidate
from store.db import Database
from store.fairs import publish, upsert_fair
from store.jobs import upsert_job
from store.keys import authenticate, create_key, get_or_create_tenant
from store.models import Job

DEMO_TENANT = "demo-agency"
# A second agency whose postings are public and whose candidates the demo tenant never sees.
OTHER_TENANT = "other-agency"
# A university career office running a fair that shows every public sample posting.
FAIR_TENANT = "demo-career-office"
DEMO_FAIR = "demo-fair-2026"
# Where the demo page finds its browser key (a public key: it is printed into web pages).
WIDGET_DEMO_FILE = "widget-demo.json"


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
                upsert_candidate(
                    session, tenant_id=DEMO_TENANT, fields=with_resume_extraction(record.fields)
                )
        sync.drain()
    sync.checkpoint()
    return DemoCounts(jobs=len(records), candidates=len(people))


def load_demo_fair(db: Database) -> int:
    """The demo fair with every public posting; returns how many it shows."""
    with db.session() as session:
        get_or_create_tenant(session, FAIR_TENANT, "Demo University Career Office")
        upsert_fair(
            session, tenant_id=FAIR_TENANT, fair_id=DEMO_FAIR,
            name="2026 深圳高校秋季招聘会 · Shenzhen Autumn Career Fair (demo)",
            apply_url="https://careers.example.edu.cn/apply?job={job_id}",
        )  # fmt: skip
        job_ids = session.scalars(select(Job.id).where(Job.private.is_(False))).all()
        for job_id in job_ids:
            publish(session, fair_id=DEMO_FAIR, job_id=job_id, tenant_id=FAIR_TENANT)
        return len(job_ids)


def demo_widget_key(db: Database, data_dir: Path, origins: Sequence[str], *, pepper: str) -> str:
    """The demo fair's browser key for ``origins``: the one saved for the demo page if it is
    still valid for exactly those origins, else a new one (saved in its place)."""
    path = data_dir / WIDGET_DEMO_FILE
    wanted = sorted({o.rstrip("/").lower() for o in origins})
    with db.session() as session:
        if path.exists():
            saved = json.loads(path.read_text())
            try:
                principal = authenticate(session, saved["key"], pepper=pepper)
                if sorted(principal.origins) == wanted and principal.fair_id == DEMO_FAIR:
                    return str(saved["key"])
            except (Unauthorized, KeyError):
                pass
        key = create_key(session, tenant_id=FAIR_TENANT, role="public", pepper=pepper,
                         fair_id=DEMO_FAIR, origins=wanted)  # fmt: skip
    path.write_text(json.dumps({"key": key, "fair": DEMO_FAIR}))
    return key
