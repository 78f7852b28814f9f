"""escalations: SLA escalation rules per policy, the alerts they acted on, alert mails

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sla_escalation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger", String(length=16), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=True),
        sa.Column("notify_assignee", sa.Boolean(), nullable=False),
        sa.Column("notify_managers", sa.Boolean(), nullable=False),
        sa.Column("set_priority", String(length=16), nullable=False),
        sa.Column("assign_team_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assign_team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policy.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_sla_escalation_rule_policy_id"), "sla_escalation_rule", ["policy_id"]
    )
    op.create_table(
        "sla_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("kind", String(length=16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("due_at", UTC(timezone=True), nullable=True),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(op.f("ix_sla_alert_ticket_id"), "sla_alert", ["ticket_id"])
    op.create_table(
        "sla_alert_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("flush_at", UTC(timezone=True), nullable=False),
        sa.Column("sent_at", UTC(timezone=True), nullable=True),
        sa.Column("outbox_key", String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["alert_id"], ["sla_alert.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "agent_id", name="uq_sla_alert_mail"),
    )
    op.create_index("ix_sla_alert_mail_agent_sent", "sla_alert_mail", ["agent_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_alert_mail_agent_sent", table_name="sla_alert_mail")
    op.drop_table("sla_alert_mail")
    op.drop_index(op.f("ix_sla_alert_ticket_id"), table_name="sla_alert")
    op.drop_table("sla_alert")
    op.drop_index(op.f("ix_sla_escalation_rule_policy_id"), table_name="sla_escalation_rule")
    op.drop_table("sla_escalation_rule")
