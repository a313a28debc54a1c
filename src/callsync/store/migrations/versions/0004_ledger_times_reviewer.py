"""ledger: when a write was sent and acknowledged, and who reviewed a reviewer's write (and from which call)

Revision ID: 0004_ledger_times_reviewer
Revises: 0003_crm_budget
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_ledger_times_reviewer"
down_revision = "0003_crm_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewer", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_item_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("origin_call_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        for name in ("origin_call_id", "review_item_id", "reviewed_at", "reviewer", "acknowledged_at", "sent_at"):
            batch.drop_column(name)
