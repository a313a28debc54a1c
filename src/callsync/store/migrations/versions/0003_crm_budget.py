"""crm budgets: a CRM account's API allowance shared by all workers (Zoho credits, Salesforce requests)

Revision ID: 0003_crm_budget
Revises: 0002_ingest
Create Date: 2026-11-24 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_crm_budget"
down_revision = "0002_ingest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_budgets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("crm", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("tenants", sa.JSON(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.Column("reserve", sa.Integer(), nullable=False),
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("spent", sa.JSON(), nullable=False),
        sa.Column("observed_used", sa.Integer(), nullable=True),
        sa.Column("observed_limit", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("crm_blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("crm", "account", name="uq_crm_budgets"),
    )


def downgrade() -> None:
    op.drop_table("crm_budgets")
