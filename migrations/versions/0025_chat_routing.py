"""live chat routing: agents' availability, and each conversation's place in its queue

Revision ID: 0025
Revises: 0024

``agent_chat_status`` keeps each agent's availability, their limit of chats at once, when their
console was last heard from and when they were last offered a chat. A conversation gains its
routing (``queued``, ``taken``, or ``message`` when left while the desk was away or full), its
queue (team and since when), the agent it is offered to and the agent who took it.
Conversations from before are messages: they were never queued.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime
String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "agent_chat_status",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", String(length=16), nullable=False),
        sa.Column("chat_limit", sa.Integer(), nullable=False),
        sa.Column("console_seen_at", UTC(timezone=True), nullable=True),
        sa.Column("last_offer_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    with op.batch_alter_table("chat_conversation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("routing", String(length=16), nullable=False, server_default="message")
        )
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("queued_at", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("offered_agent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("offered_at", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("taken_at", UTC(timezone=True), nullable=True))
        batch_op.create_foreign_key("fk_chat_conversation_team", "team", ["team_id"], ["id"])
        batch_op.create_foreign_key(
            "fk_chat_conversation_offered_agent", "agent", ["offered_agent_id"], ["id"]
        )
        batch_op.create_foreign_key("fk_chat_conversation_agent", "agent", ["agent_id"], ["id"])
        batch_op.create_index(
            "ix_chat_conversation_queue", ["channel_id", "state", "routing", "queued_at"]
        )
        batch_op.create_index("ix_chat_conversation_agent", ["agent_id", "state"])


def downgrade() -> None:
    with op.batch_alter_table("chat_conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_conversation_agent")
        batch_op.drop_index("ix_chat_conversation_queue")
        batch_op.drop_constraint("fk_chat_conversation_agent", type_="foreignkey")
        batch_op.drop_constraint("fk_chat_conversation_offered_agent", type_="foreignkey")
        batch_op.drop_constraint("fk_chat_conversation_team", type_="foreignkey")
        for column in (
            "taken_at",
            "agent_id",
            "offered_at",
            "offered_agent_id",
            "queued_at",
            "team_id",
            "routing",
        ):
            batch_op.drop_column(column)
    op.drop_table("agent_chat_status")
