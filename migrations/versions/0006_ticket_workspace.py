"""ticket workspace: macros and canned responses, notifications, undoable merges

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "macro",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("set_status", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("set_priority", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("add_tags", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "ticket_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_ticket_id", sa.Integer(), nullable=False),
        sa.Column("target_ticket_id", sa.Integer(), nullable=False),
        sa.Column("moved_message_ids", sa.JSON(), nullable=False),
        sa.Column("event_message_ids", sa.JSON(), nullable=False),
        sa.Column("source_state", sa.JSON(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["merged_by_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["source_ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["target_ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ticket_merge_source_ticket_id"), "ticket_merge", ["source_ticket_id"])
    op.create_index(op.f("ix_ticket_merge_target_ticket_id"), "ticket_merge", ["target_ticket_id"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_agent_read", "notification", ["agent_id", "read_at"])
    op.create_index(op.f("ix_notification_ticket_id"), "notification", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_ticket_id"), table_name="notification")
    op.drop_index("ix_notification_agent_read", table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_ticket_merge_target_ticket_id"), table_name="ticket_merge")
    op.drop_index(op.f("ix_ticket_merge_source_ticket_id"), table_name="ticket_merge")
    op.drop_table("ticket_merge")
    op.drop_table("macro")
