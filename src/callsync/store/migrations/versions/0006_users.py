"""users: dashboard sign-in (argon2 password hash, role, the tenants each user may see); spot_checks: the
weekly sample of accepted writes a person marks right or wrong; indexes on calls for the dashboard's
counts per state, per day and latency

Revision ID: 0006_users
Revises: 0005_privacy
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_users"
down_revision = "0005_privacy"
branch_labels = None
depends_on = None

CALL_INDEXES = {
    "ix_calls_tenant_platform_state": ["tenant", "platform", "sync_state"],
    "ix_calls_tenant_received_at": ["tenant", "received_at"],
    "ix_calls_received_at": ["received_at"],
    "ix_calls_synced_at": ["synced_at"],
    "ix_calls_call_id": ["call_id"],
    "ix_calls_from_number": ["from_number"],
    "ix_calls_to_number": ["to_number"],
}


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("tenants", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "spot_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("ledger_id", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=100), nullable=False),
        sa.Column("crm", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("canonical_field", sa.String(length=80), nullable=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=True),
        sa.Column("checked_by", sa.String(length=100), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("week", "ledger_id", name="uq_spot_checks_week_ledger"),
    )
    op.create_index("ix_spot_checks_week", "spot_checks", ["week"])
    # The dashboard's and /metrics' reads over many calls (bench/dashboard.py).
    for name, columns in CALL_INDEXES.items():
        op.create_index(name, "calls", columns)


def downgrade() -> None:
    for name in CALL_INDEXES:
        op.drop_index(name, table_name="calls")
    op.drop_index("ix_spot_checks_week", table_name="spot_checks")
    op.drop_table("spot_checks")
    op.drop_table("users")
