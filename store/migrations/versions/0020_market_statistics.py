"""market statistics: headcount and validity of postings, seekers' activity, service counts

Revision ID: 0020
Revises: 0019
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
down_revision = "0019"
branch_labels = None
depends_on = None

VALIDITY = timedelta(days=90)  # store.models.POSTING_VALIDITY / SEEKER_VALIDITY


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cohort() -> list[sa.Column[object]]:
    return [
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("city_code", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("headcount", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("valid_through", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("open_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_jobs_open", ["posted_at", "open_until"])
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("active_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_candidates_active_until", ["active_until"])
        batch.create_index("ix_candidates_created_at", ["created_at"])
    op.create_table(
        "service_counts",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "tenant_id", "channel", "kind"),
    )
    op.create_table(
        "market_posting_cells",
        *_cohort(),
        sa.Column("posted_month", sa.Integer(), nullable=False),
        sa.Column("close_month", sa.Integer(), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("postings", sa.Integer(), nullable=False),
        sa.Column("employers", sa.Integer(), nullable=False),
        sa.Column("paid_postings", sa.Integer(), nullable=False),
        sa.Column("paid_employers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "key", "city_code", "posted_month", "close_month"),
    )
    op.create_index("ix_market_posting_cells_period", "market_posting_cells",
                    ["dimension", "posted_month"])  # fmt: skip
    op.create_table(
        "market_wage_bins",
        *_cohort(),
        sa.Column("posted_month", sa.Integer(), nullable=False),
        sa.Column("close_month", sa.Integer(), nullable=False),
        sa.Column("pay_bin", sa.Integer(), nullable=False),
        sa.Column("postings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "key", "city_code", "posted_month", "close_month", "pay_bin"
        ),
    )
    op.create_index("ix_market_wage_bins_period", "market_wage_bins",
                    ["dimension", "posted_month"])  # fmt: skip
    op.create_table(
        "market_seeker_cells",
        *_cohort(),
        sa.Column("created_month", sa.Integer(), nullable=False),
        sa.Column("active_month", sa.Integer(), nullable=False),
        sa.Column("seekers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "key", "city_code", "created_month", "active_month"),
    )
    op.create_index("ix_market_seeker_cells_period", "market_seeker_cells",
                    ["dimension", "created_month"])  # fmt: skip
    op.create_table(
        "market_employer_months",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("employer", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("month", "employer"),
    )
    op.create_table(
        "market_dirty_months",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "month"),
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
    for table in ("market_dirty_months", "market_employer_months", "market_seeker_cells", "market_wage_bins",
                  "market_posting_cells", "service_counts"):  # fmt: skip
        op.drop_table(table)
    with op.batch_alter_table("candidates") as batch:
        batch.drop_index("ix_candidates_created_at")
        batch.drop_index("ix_candidates_active_until")
        batch.drop_column("active_until")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_open")
        batch.drop_column("open_until")
        batch.drop_column("valid_through")
        batch.drop_column("headcount")
