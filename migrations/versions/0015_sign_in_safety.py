"""sign-in safety: scoped expiring API tokens

Revision ID: 0015
Revises: 0013

API tokens get a scope (tokens made before keep what they could do: ``read-write``), a name
and an optional expiry.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
UTC = inbox.models.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("scope", String(length=16), nullable=False, server_default="read-write")
        )
        batch.add_column(sa.Column("name", String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("expires_at", UTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("name")
        batch.drop_column("scope")
