"""crm_budgets.margin_s / margin_until: a rate window's widened margin, shared by every worker process

A 429 on a shared window means requests reach the CRM later than callsync counts them; the process that
drew it widens the window's margin for every process, not only for itself (crm/http/ratelimit.py).

Revision ID: 0009_shared_margin
Revises: 0008_actions
Create Date: 2026-12-06 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_shared_margin"
down_revision = "0008_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_budgets") as batch:
        batch.add_column(sa.Column("margin_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("margin_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_budgets") as batch:
        batch.drop_column("margin_until")
        batch.drop_column("margin_s")
