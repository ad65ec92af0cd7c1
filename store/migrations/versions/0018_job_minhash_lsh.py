"""job_lsh_buckets and jobs.minhash: near-duplicate postings by MinHash LSH

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

Postings are grouped as near-duplicates by the MinHash (datasketch) of their normalized
text: each posting's signature is stored with it, and its LSH band buckets are rows of
``job_lsh_buckets``, so finding the candidates of a new posting is an index probe per band.
Postings stored before this revision get a signature and buckets when they are next written;
until then a new repost is not compared with them (this revision backfills nothing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("minhash", sa.LargeBinary(), nullable=True))
    op.create_table(
        "job_lsh_buckets",
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("bucket", "job_id"),
    )
    op.create_index("ix_job_lsh_buckets_job_id", "job_lsh_buckets", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_job_lsh_buckets_job_id", table_name="job_lsh_buckets")
    op.drop_table("job_lsh_buckets")
    op.drop_column("jobs", "minhash")
