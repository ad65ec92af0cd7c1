"""posting compliance: each posting's status and flags, each tenant's policy

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

Postings are checked for discriminatory requirements (``core.compliance``) on every write;
the result is stored on the posting (``compliance_status``: ok, advisory or unlawful;
``compliance_flags``: the language-neutral flags; ``compliance_review``: pending or reviewed,
for the operator's review queue; both indexed).
Postings that exist already are checked here, so that none already published at a fair
escapes the rule. A tenant's ``compliance_policy`` ("warn" or "block") says what a write with
an unlawful flag does; everyone starts at "warn", what every write did until now.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.compliance import check_posting

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compliance_policy", sa.String(length=8),
                                      server_default="warn", nullable=False))  # fmt: skip
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compliance_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("compliance_flags", sa.JSON(), server_default="[]",
                                      nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("compliance_review", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_compliance_review"), ["compliance_review"],
                              unique=False)  # fmt: skip
        batch_op.create_index(batch_op.f("ix_jobs_compliance_status"), ["compliance_status"],
                              unique=False)  # fmt: skip
    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("title", sa.String),
                    sa.column("description", sa.Text),
                    sa.column("compliance_status", sa.String),
                    sa.column("compliance_flags", sa.JSON),
                    sa.column("compliance_review", sa.String))  # fmt: skip
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(jobs.c.id, jobs.c.title, jobs.c.description)
            .where(jobs.c.id > last).order_by(jobs.c.id).limit(_BATCH)
        ).all()  # fmt: skip
        if not rows:
            break
        for job_id, title, description in rows:
            result = check_posting(title or "", description or "")
            connection.execute(
                jobs.update().where(jobs.c.id == job_id).values(
                    compliance_status=result.status,
                    compliance_flags=[flag.as_stored() for flag in result.flags],
                    compliance_review="pending" if result.flags else None,
                )
            )  # fmt: skip
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_compliance_review"))
        batch_op.drop_index(batch_op.f("ix_jobs_compliance_status"))
        batch_op.drop_column("compliance_review")
        batch_op.drop_column("compliance_flags")
        batch_op.drop_column("compliance_status")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("compliance_policy")
