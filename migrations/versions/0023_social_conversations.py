"""social direct messages: each platform conversation threaded onto its ticket

Revision ID: 0023
Revises: 0022

``social_conversation`` keeps, per channel and platform chat (a Telegram chat, a Messenger
PSID, a WhatsApp number, an X conversation), the ticket its messages go on, whom replies go
to, and when the customer last wrote: the start of the platforms' reply windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import inbox.models.types
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "social_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("chat_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("last_inbound_at", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["identity_id"], ["customer_identity.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "chat_key", name="uq_social_conversation_chat"),
    )
    op.create_index(
        "ix_social_conversation_ticket_id", "social_conversation", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_social_conversation_ticket_id", table_name="social_conversation")
    op.drop_table("social_conversation")
