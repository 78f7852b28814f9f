"""help centre: chat visitors who opened a suggested article, and whether they wrote after all

Revision ID: 0024
Revises: 0023

``help_visit`` keeps, per visit of the chat widget's pre-chat form (a random key the widget
makes), the first article the visitor opened from its suggestions and, once they write, the
ticket they opened. The help report counts the visits that never became a ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime
String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "help_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_key", String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UTC(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["help_article.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_key"),
    )
    op.create_index("ix_help_visit_opened_at", "help_visit", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_help_visit_opened_at", table_name="help_visit")
    op.drop_table("help_visit")
