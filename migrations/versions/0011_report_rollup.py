"""SLA report rollup: per UTC day of ticket creation, counts, time histograms with the exact
times behind them, and new tickets per quarter hour; the change log its triggers keep

Revision ID: 0011
Revises: 0010

Every existing day with tickets is logged as changed, so the refresher (a timer of the
workers) fills the rollup; until it has, the report computes those days from the clocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op
from inbox.models.reporting import rollup_trigger_ddl, rollup_trigger_drops

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "sla_report_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sla_report_change_day", "sla_report_change", ["day"])
    op.create_table(
        "sla_report_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("dimension", String(length=16), nullable=False),
        sa.Column("key", String(length=64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("met", sa.Integer(), nullable=False),
        sa.Column("breached", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_report_count_day", "sla_report_count", ["day", "dimension"])
    op.create_table(
        "sla_report_histogram",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("measure", String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sla_report_histogram_day", "sla_report_histogram", ["day", "target", "measure"]
    )
    op.create_table(
        "sla_report_time",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("target", String(length=32), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("business_seconds", sa.Integer(), nullable=False),
        sa.Column("business_bucket", sa.Integer(), nullable=False),
        sa.Column("calendar_seconds", sa.Integer(), nullable=False),
        sa.Column("calendar_bucket", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_report_time_day", "sla_report_time", ["day"])
    op.create_index(
        "ix_sla_report_time_business",
        "sla_report_time",
        ["target", "business_bucket", "day", "team_id", "business_seconds"],
    )
    op.create_index(
        "ix_sla_report_time_calendar",
        "sla_report_time",
        ["target", "calendar_bucket", "day", "team_id", "calendar_seconds"],
    )
    op.create_table(
        "sla_report_volume",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_report_volume_day", "sla_report_volume", ["day"])
    op.create_index("ix_sla_clock_breached_at", "sla_clock", ["breached_at", "id"])
    op.create_index("ix_ticket_assignee_created", "ticket", ["assignee_id", "created_at"])
    for statement in rollup_trigger_ddl(dialect):
        op.execute(statement)
    day = (
        "substr(created_at, 1, 10)"
        if dialect == "sqlite"
        else "(created_at AT TIME ZONE 'UTC')::date"
    )
    op.execute(f"INSERT INTO sla_report_change (day) SELECT DISTINCT {day} FROM ticket")


def downgrade() -> None:
    for statement in rollup_trigger_drops(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_ticket_assignee_created", table_name="ticket")
    op.drop_index("ix_sla_clock_breached_at", table_name="sla_clock")
    for table in (
        "sla_report_volume",
        "sla_report_time",
        "sla_report_histogram",
        "sla_report_count",
        "sla_report_change",
    ):
        op.drop_table(table)
