"""encrypted personal data: contacts and extraction become encrypted text

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26

Existing plaintext values stay readable (store.pii reads unprefixed values as they are)
and are encrypted, with identity keys turned into digests, by ``encrypt_legacy_rows`` when
the service starts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plaintext identity keys go; encrypt_legacy_rows recomputes them as digests.
    op.execute("UPDATE candidates SET email_key = NULL, phone_key = NULL")
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.VARCHAR(length=320), type_=sa.Text(),
                              existing_nullable=True)  # fmt: skip
        batch_op.alter_column("phone", existing_type=sa.VARCHAR(length=64), type_=sa.Text(),
                              existing_nullable=True)  # fmt: skip
        batch_op.alter_column("extraction", existing_type=sa.JSON(), type_=sa.Text(),
                              existing_nullable=True, postgresql_using="extraction::text")  # fmt: skip
        # Identity keys become HMAC-SHA256 hex digests.
        batch_op.alter_column("email_key", existing_type=sa.VARCHAR(length=320),
                              type_=sa.String(length=64), existing_nullable=True)  # fmt: skip
        batch_op.alter_column("phone_key", existing_type=sa.VARCHAR(length=32),
                              type_=sa.String(length=64), existing_nullable=True)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.alter_column("phone_key", existing_type=sa.String(length=64),
                              type_=sa.VARCHAR(length=32), existing_nullable=True)  # fmt: skip
        batch_op.alter_column("email_key", existing_type=sa.String(length=64),
                              type_=sa.VARCHAR(length=320), existing_nullable=True)  # fmt: skip
        batch_op.alter_column("extraction", existing_type=sa.Text(), type_=sa.JSON(),
                              existing_nullable=True, postgresql_using="extraction::json")  # fmt: skip
        batch_op.alter_column("phone", existing_type=sa.Text(), type_=sa.VARCHAR(length=64),
                              existing_nullable=True)  # fmt: skip
        batch_op.alter_column("email", existing_type=sa.Text(), type_=sa.VARCHAR(length=320),
                              existing_nullable=True)  # fmt: skip
