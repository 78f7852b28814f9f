"""workspace layout: what each agent has read of each ticket

Revision ID: 0019
Revises: 0018

``ticket_read`` keeps, per agent and ticket, the newest customer message the ticket page
showed that agent; the inbox marks a ticket unread for them while a newer one exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import inbox.models.types
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "ticket_read",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("read_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("agent_id", "ticket_id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_read")
