"""calls: the extraction's intent, outcome and sentiment, so analytics count every call in SQL

Revision ID: 0007_call_labels
Revises: 0006_users
Create Date: 2026-12-04 18:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_call_labels"
down_revision = "0006_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("intent", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("sentiment", sa.String(length=40), nullable=True))
    # Covering indexes: analytics count the labels of a period with an index-only scan.
    op.create_index("ix_calls_received_labels", "calls", ["received_at", "tenant", "intent", "outcome", "sentiment"])
    op.create_index(
        "ix_calls_tenant_received_labels", "calls", ["tenant", "received_at", "intent", "outcome", "sentiment"]
    )


def downgrade() -> None:
    op.drop_index("ix_calls_tenant_received_labels", "calls")
    op.drop_index("ix_calls_received_labels", "calls")
    with op.batch_alter_table("calls") as batch:
        for name in ("sentiment", "outcome", "intent"):
            batch.drop_column(name)
