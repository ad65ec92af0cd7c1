"""document_vectors: which embedding-cache entries hold each indexed document's vectors

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

Matching and search re-ranking score a few hundred retrieved documents with their
full-precision vectors. The embedded index holds those vectors in memory; an engine such as
Elasticsearch keeps quantized copies and should not be asked to return vectors at all. This
table maps each document to the embedding-cache rows of its content and title texts (and
keeps the skills and language re-ranking reads), written as documents are indexed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_vectors",
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title_hash", sa.String(length=64), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("entity", "entity_id"),
    )


def downgrade() -> None:
    op.drop_table("document_vectors")
