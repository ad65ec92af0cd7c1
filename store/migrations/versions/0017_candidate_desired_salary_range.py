"""candidates: desired pay as a range with the months paid a year

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

A résumé's "2万-3万" or "45k-60k RMB/month, 14 months" was kept as its minimum alone. The
maximum and the months per year ("14薪") get their own columns beside desired_salary_min.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("desired_salary_max", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("desired_salary_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_column("desired_salary_months")
        batch_op.drop_column("desired_salary_max")
