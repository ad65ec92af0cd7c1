"""market statistics: headcount and validity of postings, seekers' activity, service counts

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-01

The operator's labour-market statistics count open positions (the headcount of the postings
open in a period) against the job seekers active in it, and the services job seekers
received. Existing rows get a headcount of 1 and the default validity from when they were
posted (postings) or last changed (candidates).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None

VALIDITY = timedelta(days=90)  # store.models.POSTING_VALIDITY / SEEKER_VALIDITY


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("headcount", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("valid_through", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("open_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_jobs_open", ["posted_at", "open_until"])
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("active_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_candidates_active_until", ["active_until"])
    op.create_table(
        "service_counts",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "tenant_id", "channel", "kind"),
    )
    connection = op.get_bind()
    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("posted_at", sa.DateTime),
                    sa.column("open_until", sa.DateTime))  # fmt: skip
    candidates = sa.table("candidates", sa.column("id", sa.Integer),
                          sa.column("updated_at", sa.DateTime),
                          sa.column("active_until", sa.DateTime))  # fmt: skip
    for table, source, target in (
        (jobs, "posted_at", "open_until"),
        (candidates, "updated_at", "active_until"),
    ):
        rows = connection.execute(sa.select(table.c.id, table.c[source])).all()
        values = [
            {"row_id": row_id, target: _aware(stamp) + VALIDITY}
            for row_id, stamp in rows
            if stamp is not None
        ]
        update = table.update().where(table.c.id == sa.bindparam("row_id"))
        for start in range(0, len(values), 1000):
            connection.execute(update, values[start : start + 1000])


def downgrade() -> None:
    op.drop_table("service_counts")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_index("ix_candidates_active_until")
        batch.drop_column("active_until")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_open")
        batch.drop_column("open_until")
        batch.drop_column("valid_through")
        batch.drop_column("headcount")
