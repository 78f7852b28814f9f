"""sign-in throttle: failed sign-ins and reset requests counted per network address

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", String(length=32), nullable=False),
        sa.Column("address", String(length=64), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sign_in_attempt_kind_address_at", "sign_in_attempt", ["kind", "address", "created_at"]
    )
    op.create_index("ix_sign_in_attempt_created_at", "sign_in_attempt", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempt_created_at", table_name="sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_kind_address_at", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
