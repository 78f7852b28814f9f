"""sla: business calendars, policies, customer tags, clocks, their events, status history

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "business_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("timezone", String(length=64), nullable=False),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        sa.Column("weekly_hours", sa.JSON(), nullable=False),
        sa.Column("holiday_country", String(length=8), nullable=True),
        sa.Column("holiday_subdivision", String(length=16), nullable=True),
        sa.Column("closed_dates", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "customer_tag",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag", String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("customer_id", "tag"),
    )
    op.create_index(op.f("ix_customer_tag_tag"), "customer_tag", ["tag"])
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("channel_kinds", sa.JSON(), nullable=False),
        sa.Column("customer_tags", sa.JSON(), nullable=False),
        sa.Column("team_ids", sa.JSON(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("warn_percents", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["calendar_id"], ["business_calendar.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sla_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("state", String(length=16), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC(timezone=True), nullable=False),
        sa.Column("due_at", UTC(timezone=True), nullable=True),
        sa.Column("stopped_at", UTC(timezone=True), nullable=True),
        sa.Column("breached_at", UTC(timezone=True), nullable=True),
        sa.Column("remaining_seconds", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policy.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "target", name="uq_sla_clock_target"),
    )
    op.create_index(op.f("ix_sla_clock_ticket_id"), "sla_clock", ["ticket_id"])
    op.create_table(
        "sla_clock_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("kind", String(length=32), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("due_at", UTC(timezone=True), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("detail", String(length=200), nullable=False),
        sa.Column("recorded_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policy.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "target", "cycle", "kind", "at", name="uq_sla_event"),
    )
    op.create_index("ix_sla_event_ticket_at", "sla_clock_event", ["ticket_id", "at"])
    op.create_table(
        "ticket_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", String(length=64), nullable=False),
        sa.Column("category", String(length=32), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_change_ticket_at", "ticket_status_change", ["ticket_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_status_change_ticket_at", table_name="ticket_status_change")
    op.drop_table("ticket_status_change")
    op.drop_index("ix_sla_event_ticket_at", table_name="sla_clock_event")
    op.drop_table("sla_clock_event")
    op.drop_index(op.f("ix_sla_clock_ticket_id"), table_name="sla_clock")
    op.drop_table("sla_clock")
    op.drop_table("sla_policy")
    op.drop_index(op.f("ix_customer_tag_tag"), table_name="customer_tag")
    op.drop_table("customer_tag")
    op.drop_table("business_calendar")
