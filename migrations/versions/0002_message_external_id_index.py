"""index messages by external id for threading lookups

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_external_id", "message", ["external_id"])


def downgrade() -> None:
    op.drop_index("ix_message_external_id", table_name="message")
