"""followups: settings per team, snoozes and reminders, satisfaction surveys

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "followup_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("reminder_after_days", sa.Integer(), nullable=True),
        sa.Column("auto_resolve_after_days", sa.Integer(), nullable=True),
        sa.Column("closing_message", sa.Text(), nullable=False),
        sa.Column("reopen_window_days", sa.Integer(), nullable=False),
        sa.Column("survey_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["calendar_id"], ["business_calendar.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id"),
    )
    op.create_table(
        "ticket_snooze",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("kind", String(length=16), nullable=False),
        sa.Column("until", UTC(timezone=True), nullable=False),
        sa.Column("state", String(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("ended_at", UTC(timezone=True), nullable=True),
        sa.Column("end_reason", String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_snooze_ticket_state", "ticket_snooze", ["ticket_id", "state"])
    op.create_table(
        "satisfaction_survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", UTC(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("answered_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index(
        op.f("ix_satisfaction_survey_answered_at"), "satisfaction_survey", ["answered_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_satisfaction_survey_answered_at"), table_name="satisfaction_survey")
    op.drop_table("satisfaction_survey")
    op.drop_index("ix_ticket_snooze_ticket_state", table_name="ticket_snooze")
    op.drop_table("ticket_snooze")
    op.drop_table("followup_settings")
