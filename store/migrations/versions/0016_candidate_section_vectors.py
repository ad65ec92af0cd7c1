"""document_vectors.section_hashes: the embedding-cache rows of candidates' section texts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Candidate search scores a résumé by its best-matching short section (headline, experience
entries, skills) rather than by one whole-résumé vector. An engine that hands back no
vectors (Elasticsearch) finds the section vectors through these hashes, as it finds the
content and title vectors. Rows written before this revision hold none (NULL) until the
index is rebuilt, which the new profile text version triggers at start-up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_vectors") as batch:
        batch.add_column(sa.Column("section_hashes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_vectors") as batch:
        batch.drop_column("section_hashes")
