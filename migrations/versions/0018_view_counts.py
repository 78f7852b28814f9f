"""inbox: live counts per view and scope, kept by triggers; "Breaching soon" by an index

Revision ID: 0018
Revises: 0017

``ticket_count`` holds how many unresolved tickets there are per team, assignee, channel,
status, priority and snooze (``inbox.models.counts``); ``ticket.pending_snoozes`` tells the
triggers which tickets a snooze hides. Both are filled here from the tickets already there
(a few seconds for a million tickets), then kept by the triggers. Three partial indexes of
the running, unsnoozed tickets' due times (all, by team, by assignee) count "Breaching
soon".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op
from inbox.models.counts import (
    INDEX_COLUMNS,
    count_fill_sql,
    count_trigger_ddl,
    count_trigger_drops,
)
from inbox.models.tickets import BREACHING_INDEXES, BREACHING_SQL

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "ticket",
        sa.Column("pending_snoozes", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "ticket_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.Integer(), nullable=False),
        sa.Column("assignee_key", sa.Integer(), nullable=False),
        sa.Column("channel_key", sa.Integer(), nullable=False),
        sa.Column("status", String(length=64), nullable=False),
        sa.Column("status_category", String(length=32), nullable=False),
        sa.Column("priority", String(length=16), nullable=False),
        sa.Column("snoozed", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_count_key", "ticket_count", list(INDEX_COLUMNS))
    for statement in count_fill_sql():
        op.execute(statement)
    for name, columns in BREACHING_INDEXES.items():
        op.create_index(
            name,
            "ticket",
            list(columns),
            sqlite_where=sa.text(BREACHING_SQL),
            postgresql_where=sa.text(BREACHING_SQL),
        )
    for statement in count_trigger_ddl(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in count_trigger_drops(op.get_bind().dialect.name):
        op.execute(statement)
    for name in BREACHING_INDEXES:
        op.drop_index(name, table_name="ticket")
    op.drop_table("ticket_count")
    op.drop_column("ticket", "pending_snoozes")
