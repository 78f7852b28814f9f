"""live chat: a visitor's typed email address, proven by a confirmation link

Revision ID: 0027
Revises: 0026

``chat_visitor.email_proven_at``: when the visitor followed the link mailed to the address
they typed; only then may agents' answers be mailed to it. And an index on when conversations
began, which the chat reports read by.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import inbox.models.types
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("chat_visitor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_proven_at", UTC(timezone=True), nullable=True))
    op.create_index("ix_chat_conversation_created_at", "chat_conversation", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_conversation_created_at", table_name="chat_conversation")
    with op.batch_alter_table("chat_visitor", schema=None) as batch_op:
        batch_op.drop_column("email_proven_at")
