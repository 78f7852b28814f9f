"""phone calls, the embedded account directory, identity proofs and account unlocks

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("locked_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id"),
    )
    op.create_index(
        op.f("ix_directory_account_email"), "directory_account", ["email"], unique=False
    )
    op.create_index(
        op.f("ix_directory_account_phone"), "directory_account", ["phone"], unique=False
    )
    op.create_table(
        "directory_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_directory_code_account_created",
        "directory_code",
        ["account_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "identity_proof",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_identity_proof_ticket_account",
        "identity_proof",
        ["ticket_id", "account_id"],
        unique=False,
    )
    op.create_table(
        "call_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("started_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("identity_verified", sa.Boolean(), nullable=False),
        sa.Column("verification_checks", sa.JSON(), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["customer_identity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_call_note_identity_id"), "call_note", ["identity_id"], unique=False)
    op.create_index(op.f("ix_call_note_ticket_id"), "call_note", ["ticket_id"], unique=False)
    op.create_table(
        "unlock_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("proof_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.ForeignKeyConstraint(
            ["proof_id"],
            ["identity_proof.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index(
        "ix_unlock_request_account_created",
        "unlock_request",
        ["account_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_unlock_request_agent_created",
        "unlock_request",
        ["agent_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_unlock_request_ticket_id"), "unlock_request", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_unlock_request_ticket_id"), table_name="unlock_request")
    op.drop_index("ix_unlock_request_agent_created", table_name="unlock_request")
    op.drop_index("ix_unlock_request_account_created", table_name="unlock_request")
    op.drop_table("unlock_request")
    op.drop_index(op.f("ix_call_note_ticket_id"), table_name="call_note")
    op.drop_index(op.f("ix_call_note_identity_id"), table_name="call_note")
    op.drop_table("call_note")
    op.drop_index("ix_identity_proof_ticket_account", table_name="identity_proof")
    op.drop_table("identity_proof")
    op.drop_index("ix_directory_code_account_created", table_name="directory_code")
    op.drop_table("directory_code")
    op.drop_index(op.f("ix_directory_account_phone"), table_name="directory_account")
    op.drop_index(op.f("ix_directory_account_email"), table_name="directory_account")
    op.drop_table("directory_account")
