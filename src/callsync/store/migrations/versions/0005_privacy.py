"""privacy: the install's redaction key, a log of retention runs and erasures (no personal data), and
markers of what retention or erasure removed from a call and from a ledger row

Revision ID: 0005_privacy
Revises: 0004_ledger_times_reviewer
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_privacy"
down_revision = "0004_ledger_times_reviewer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_privacy_keys_name"),
    )
    op.create_table(
        "privacy_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("transcript_removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("payload_removed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("redacted_by", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("redacted_at")
        batch.drop_column("redacted_by")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("payload_removed_at")
        batch.drop_column("transcript_removed_at")
    op.drop_table("privacy_events")
    op.drop_table("privacy_keys")
