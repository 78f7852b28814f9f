"""customer portal: single-use sign-in links and customers' sessions

Revision ID: 0021
Revises: 0020

``portal_link`` holds the hash of each sign-in link mailed to a customer's address, with
when it expires and when it was used; ``portal_session`` the hash of each session it opened.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

import inbox.models.types
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "portal_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("used_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["customer_identity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_portal_link_identity_id", "portal_link", ["identity_id"])
    op.create_table(
        "portal_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["customer_identity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_portal_session_identity_id", "portal_session", ["identity_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_session_identity_id", table_name="portal_session")
    op.drop_table("portal_session")
    op.drop_index("ix_portal_link_identity_id", table_name="portal_link")
    op.drop_table("portal_link")
