"""ids never reused (SQLite AUTOINCREMENT), durable index purges, instance metadata

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

SQLite hands the highest rowid + 1 to the next row, so deleting the newest posting gave its
id to the next posting of any tenant, and rows still keyed by the old id (a stored file)
then belonged to the newcomer. AUTOINCREMENT never hands out an id twice. PostgreSQL's
sequences never did. The tables are rebuilt on SQLite with their rows and ids.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Every table whose integer id other rows or clients refer to.
_ID_TABLES = ("jobs", "candidates", "candidate_sources", "stored_files", "feedback", "consents",
              "audit_log", "outbox")  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # store.db runs SQLite migrations with foreign keys off, so rebuilding a parent table
        # does not cascade-delete its children.
        for table in _ID_TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass
    op.create_table(
        "index_purges",
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("requested_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity"),
    )
    op.create_table(
        "instance_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("instance_meta")
    op.drop_table("index_purges")
