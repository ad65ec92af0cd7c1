"""document_vectors.occupation_code: the occupation re-ranking compares with the query's

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01

Search re-ranking scores occupation identity and neighbourhood (``search_index.rerank``);
engines that keep no full-precision copy read it from this table beside the vectors. Rows
written before this revision take the code their posting or candidate already has.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_vectors") as batch_op:
        batch_op.add_column(sa.Column("occupation_code", sa.String(length=16), nullable=True))
    for entity, table in (("job", "jobs"), ("candidate", "candidates")):
        op.execute(
            f"UPDATE document_vectors SET occupation_code = (SELECT {table}.occupation_code "
            f"FROM {table} WHERE {table}.id = document_vectors.entity_id) "
            f"WHERE entity = '{entity}'"
        )


def downgrade() -> None:
    with op.batch_alter_table("document_vectors") as batch_op:
        batch_op.drop_column("occupation_code")
