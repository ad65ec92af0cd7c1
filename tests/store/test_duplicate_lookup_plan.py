"""Looking up the duplicate groups of a page of postings reads the groups' rows through the
indexes (``duplicate_of`` and the primary key), not by a scan of every posting: it runs on
every match list and result page, and a scan grows with the corpus."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from core.settings import Settings
from store.db import migrate
from store.jobs import shown_duplicate_of
from store.models import Job, Tenant


def test_the_group_lookup_searches_the_indexes_instead_of_scanning(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{settings.data_dir / 'plan.db'}")
    try:
        migrate(engine)
        with Session(engine) as session, session.begin():
            session.add(Tenant(id="acme", name="acme"))
            session.flush()
            jobs = [Job(tenant_id="acme", external_id=f"p{i}", title="仓库管理员", city="深圳",
                        description="出入库管理。") for i in range(4)]  # fmt: skip
            session.add_all(jobs)
            session.flush()
            jobs[1].duplicate_of = jobs[2].duplicate_of = jobs[0].id
        statements: list[tuple[str, Any]] = []

        def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        with Session(engine) as session:
            rows = session.query(Job).order_by(Job.id).all()
            event.listen(engine, "before_cursor_execute", record)
            shown = shown_duplicate_of(session, rows, viewer_tenant="acme")
            event.remove(engine, "before_cursor_execute", record)
        assert shown == {rows[0].id: None, rows[1].id: rows[0].id, rows[2].id: rows[0].id,
                         rows[3].id: None}  # fmt: skip
        ((statement, parameters),) = statements
        with engine.connect() as connection:
            plan = [row[-1] for row in
                    connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]  # fmt: skip
        assert any("ix_jobs_duplicate_of" in step for step in plan), plan
        assert not any(step.startswith("SCAN jobs") for step in plan), plan
    finally:
        engine.dispose()
