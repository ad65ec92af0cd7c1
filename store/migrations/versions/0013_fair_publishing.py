"""fairs decide who publishes: allow-listed publishers, review of other requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Any agency could show its postings at any fair, and show them again the moment the fair
withdrew them. A fair now lists the agencies that publish directly (``publishers``) and how
it treats the others (``approval``: "review" or "allow_list_only"); each fair posting has a
``status`` (pending, approved, rejected, withdrawn) and who decided it when. Rows that
exist already were shown, so they become approved.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publishers", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column("approval", sa.String(length=16), server_default="review", nullable=False)
        )
    with op.batch_alter_table("fair_postings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="approved", nullable=False)
        )
        batch_op.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", store.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_fair_postings_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fair_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fair_postings_status"))
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("status")
    with op.batch_alter_table("fairs", schema=None) as batch_op:
        batch_op.drop_column("approval")
        batch_op.drop_column("publishers")
