"""agent security: TOTP replay guard, unlock permission, recovery codes, mailed one-time codes

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "may_unlock_accounts", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "agent_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_agent_recovery_code_agent_id", "agent_recovery_code", ["agent_id"])
    op.create_table(
        "agent_one_time_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_agent_one_time_code_agent_id", "agent_one_time_code", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_one_time_code_agent_id", table_name="agent_one_time_code")
    op.drop_table("agent_one_time_code")
    op.drop_index("ix_agent_recovery_code_agent_id", table_name="agent_recovery_code")
    op.drop_table("agent_recovery_code")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("may_unlock_accounts")
        batch_op.drop_column("totp_last_step")
