"""operations: timers give up after bounded attempts, health alerts, SLA targets per priority

Revision ID: 0017
Revises: 0016

A timer counts the firings in a row that did not finish, and keeps the last error, so that
one failing again and again becomes a dead letter instead of firing forever. ``health_alert``
remembers, per cause of trouble, since when it is red and when the administrators were last
mailed about it. An SLA policy may set targets per priority, and a deleted policy stays for
the history of the tickets it governed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority_targets", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("deleted_at", UTC(timezone=True), nullable=True))
    op.create_table(
        "health_alert",
        sa.Column("cause", String(length=100), nullable=False),
        sa.Column("red_since", UTC(timezone=True), nullable=True),
        sa.Column("mailed_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("cause"),
    )


def downgrade() -> None:
    op.drop_table("health_alert")
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("priority_targets")
    with op.batch_alter_table("timer", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
