"""sign-in safety: device cookies, a throttle pass after an unlock, scoped expiring API tokens

Revision ID: 0015
Revises: 0013

``sign_in_device`` keeps the browsers agents have signed in with (the hash of their device
cookie's random part) with their own failure count and lockout. ``agent.throttle_pass_until``
lets an agent unlocked by ``inbox agent unlock`` past the throttle of their network address.
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
    op.create_table(
        "sign_in_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", String(length=64), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nonce_hash"),
    )
    op.create_index("ix_sign_in_device_agent_id", "sign_in_device", ["agent_id"])
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("throttle_pass_until", UTC(timezone=True), nullable=True))
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
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("throttle_pass_until")
    op.drop_index("ix_sign_in_device_agent_id", table_name="sign_in_device")
    op.drop_table("sign_in_device")
