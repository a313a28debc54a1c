"""action_runs: one ledger row per workflow action of a call (docs/actions.md)

Revision ID: 0008_actions
Revises: 0007_call_labels
Create Date: 2026-12-05 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_actions"
down_revision = "0007_call_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("crm", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("stamp", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("person_id", sa.String(length=100), nullable=True),
        sa.Column("object_type", sa.String(length=60), nullable=True),
        sa.Column("record_id", sa.String(length=100), nullable=True),
        sa.Column("planned", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("crm_request_id", sa.String(length=200), nullable=True),
        sa.Column("integration_version", sa.String(length=80), nullable=False),
        sa.Column("review_item_id", sa.Integer(), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant", "stamp", name="uq_action_runs_stamp"),
    )
    op.create_index("ix_action_runs_call_id", "action_runs", ["call_id"])
    op.create_index("ix_action_runs_status", "action_runs", ["status"])
    op.create_index("ix_action_runs_person", "action_runs", ["tenant", "crm", "rule", "person_id"])


def downgrade() -> None:
    op.drop_index("ix_action_runs_person", "action_runs")
    op.drop_index("ix_action_runs_status", "action_runs")
    op.drop_index("ix_action_runs_call_id", "action_runs")
    op.drop_table("action_runs")
