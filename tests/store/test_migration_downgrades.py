"""Every migration can be undone: the whole chain goes down to an empty schema and up again
to exactly the models' schema, and undoing the latest revision keeps the postings stored
under it (an operator rolling back a release loses no data)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.settings import Settings
from store.db import alembic_config, migrate
from store.models import Base, Job, Tenant


def downgrade(engine: Engine, revision: str) -> None:
    """``alembic downgrade`` on ``engine`` (SQLite: with foreign keys off, as upgrades run,
    so a table rebuilt by copy does not cascade-delete its children)."""
    config = alembic_config()
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, revision)


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def engine_for(settings: Settings) -> Engine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return create_engine(settings.database_url)


def test_the_whole_chain_goes_down_to_nothing_and_up_to_the_models(settings: Settings) -> None:
    engine = engine_for(settings)
    try:
        migrate(engine)
        downgrade(engine, "base")
        assert revision_of(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_undoing_the_latest_revision_keeps_the_postings(settings: Settings) -> None:
    engine = engine_for(settings)
    try:
        migrate(engine)
        head = revision_of(engine)
        with Session(engine) as session, session.begin():
            session.add(Tenant(id="acme", name="acme"))
            session.flush()
            session.add_all(
                Job(tenant_id="acme", external_id=f"p-{i}", title=f"仓库管理员{i}", city="深圳",
                    description="负责出入库管理与盘点。")
                for i in range(5)
            )  # fmt: skip
        with Session(engine) as session:
            before = session.execute(select(Job.id, Job.external_id, Job.title)).all()
        downgrade(engine, "-1")
        assert revision_of(engine) != head
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT id, external_id, title FROM jobs").all()
        assert sorted(map(tuple, rows)) == sorted(map(tuple, before))
        migrate(engine)
        assert revision_of(engine) == head
        with Session(engine) as session:
            after = session.execute(select(Job.id, Job.external_id, Job.title)).all()
        assert sorted(after) == sorted(before)
    finally:
        engine.dispose()
