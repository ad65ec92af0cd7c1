"""postings stored before 0018 get their MinHash and LSH buckets; jobs.simhash* dropped

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01

Revision 0018 gave new and rewritten postings a MinHash signature and LSH buckets, and
backfilled nothing: a repost was never compared with a posting stored before it. This
revision computes them for every posting without one, a batch at a time (a large table is
never held in memory), then trims each bucket to its newest postings as the store keeps
them (``store.jobs.BUCKET_CAPACITY``). Existing groups are left as they are: only later
postings are compared with the backfilled ones.

The posting SimHash columns (``jobs.simhash``, ``simhash_b0``–``simhash_b3``) have had no
reader or writer since MinHash replaced them; they and their indexes go. Candidates keep
theirs (``store.candidates`` finds likely duplicates of a person by SimHash band).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.fingerprints import lsh_buckets, minhash_bytes, posting_minhash

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BATCH = 1000
# store.jobs.BUCKET_CAPACITY when this revision was written.
BUCKET_CAPACITY = 32
_SIMHASH_COLUMNS = ("simhash", "simhash_b0", "simhash_b1", "simhash_b2", "simhash_b3")

jobs = sa.table(
    "jobs",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("city", sa.String),
    sa.column("description", sa.Text),
    sa.column("minhash", sa.LargeBinary),
)
job_lsh_buckets = sa.table(
    "job_lsh_buckets", sa.column("bucket", sa.BigInteger), sa.column("job_id", sa.Integer)
)


def _backfill(connection: sa.Connection) -> None:
    last = 0
    while True:
        rows = connection.execute(
            sa.select(jobs.c.id, jobs.c.title, jobs.c.city, jobs.c.description)
            .where(jobs.c.minhash.is_(None), jobs.c.id > last)
            .order_by(jobs.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        signatures = {
            row.id: posting_minhash(row.title, row.city, row.description or "") for row in rows
        }
        connection.execute(
            jobs.update().where(jobs.c.id == sa.bindparam("job_id")),
            [{"job_id": i, "minhash": minhash_bytes(s)} for i, s in signatures.items()],
        )
        ids = sorted(signatures)
        connection.execute(job_lsh_buckets.delete().where(job_lsh_buckets.c.job_id.in_(ids)))
        connection.execute(
            job_lsh_buckets.insert(),
            [
                {"bucket": key, "job_id": i}
                for i, s in signatures.items()
                for key in sorted(set(lsh_buckets(s)))
            ],
        )
        last = rows[-1].id


def _trim_buckets(connection: sa.Connection) -> None:
    ranked = sa.select(
        job_lsh_buckets.c.bucket,
        job_lsh_buckets.c.job_id,
        sa.func.row_number()
        .over(partition_by=job_lsh_buckets.c.bucket, order_by=job_lsh_buckets.c.job_id.desc())
        .label("rank"),
    ).subquery()
    crowded = sa.select(ranked.c.bucket, ranked.c.job_id).where(ranked.c.rank > BUCKET_CAPACITY)
    connection.execute(
        job_lsh_buckets.delete().where(
            sa.tuple_(job_lsh_buckets.c.bucket, job_lsh_buckets.c.job_id).in_(crowded)
        )
    )


def upgrade() -> None:
    connection = op.get_bind()
    _backfill(connection)
    _trim_buckets(connection)
    # SQLite drops a column by copying the table: keep AUTOINCREMENT (revision 0012), or the
    # copy would hand a deleted posting's id to the next one.
    with op.batch_alter_table("jobs", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        for band in range(4):
            batch_op.drop_index(f"ix_jobs_simhash_b{band}")
        for name in _SIMHASH_COLUMNS:
            batch_op.drop_column(name)


def downgrade() -> None:
    # The dropped SimHash columns come back empty (nothing read them); the backfilled
    # signatures stay, as 0018's downgrade removes them with their column.
    with op.batch_alter_table("jobs", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("simhash", sa.BigInteger(), nullable=True))
        for band in range(4):
            batch_op.add_column(sa.Column(f"simhash_b{band}", sa.Integer(), nullable=True))
        for band in range(4):
            batch_op.create_index(f"ix_jobs_simhash_b{band}", [f"simhash_b{band}"], unique=False)
