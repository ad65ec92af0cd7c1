"""The Alembic migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.settings import Settings
from store.db import Database, migrate
from store.models import Base


def test_migrated_schema_matches_the_models(settings: Settings) -> None:
    db = Database(settings)  # migrates to head
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() is not None
        migrate(db.engine)  # running again changes nothing and does not fail
    finally:
        db.dispose()
