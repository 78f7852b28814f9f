"""live chat: visitors, conversations and what each conversation showed the visitor

Revision ID: 0022
Revises: 0021

A chat channel's visitors (``chat_visitor``, verified only through the channel's identity
secret), their conversations (``chat_conversation``, one ticket each) and the numbered
entries the visitor sees (``chat_entry``: a resent ``client_id`` is stored once).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import inbox.models.types
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "chat_visitor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("claimed_email", sa.String(length=320), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["identity_id"], ["customer_identity.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_visitor_channel_id", "chat_visitor", ["channel_id"])
    op.create_table(
        "chat_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_activity_at", UTC(timezone=True), nullable=False),
        sa.Column("ended_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"]),
        sa.ForeignKeyConstraint(["visitor_id"], ["chat_visitor.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index(
        "ix_chat_conversation_visitor_state", "chat_conversation", ["visitor_id", "state"]
    )
    op.create_table(
        "chat_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["chat_conversation.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_chat_entry_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_chat_entry_client"),
    )


def downgrade() -> None:
    op.drop_table("chat_entry")
    op.drop_index("ix_chat_conversation_visitor_state", table_name="chat_conversation")
    op.drop_table("chat_conversation")
    op.drop_index("ix_chat_visitor_channel_id", table_name="chat_visitor")
    op.drop_table("chat_visitor")
