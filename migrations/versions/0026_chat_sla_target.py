"""a chat target on SLA policies: minutes from a live chat entering the queue to an agent's
first chat message

Revision ID: 0026
Revises: 0025

``sla_policy.chat_target_minutes`` is what the chat report measures a policy's chats against
(``inbox.queries.reports.chat``); the tickets' clocks keep the other targets. The default
policy a desk started with (``inbox.actions.sla.defaults``, named "Default" at position 1000)
gets the default's two minutes, as a new desk's does; other policies get none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_POLICY = "Default"
DEFAULT_POSITION = 1000
DEFAULT_CHAT_TARGET_MINUTES = 2


def upgrade() -> None:
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_target_minutes", sa.Integer(), nullable=True))
    policy = sa.table(
        "sla_policy",
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
        sa.column("chat_target_minutes", sa.Integer),
    )
    op.execute(
        policy.update()
        .where(policy.c.name == DEFAULT_POLICY, policy.c.position == DEFAULT_POSITION)
        .values(chat_target_minutes=DEFAULT_CHAT_TARGET_MINUTES)
    )


def downgrade() -> None:
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.drop_column("chat_target_minutes")
