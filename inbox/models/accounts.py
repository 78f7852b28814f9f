"""Phone calls, the embedded account directory, identity proofs and account unlocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from inbox.models.kinds import Direction
from inbox.models.types import UTCDateTime, utcnow

CALL_DIRECTIONS = (Direction.INBOUND, Direction.OUTBOUND)
CALL_OUTCOMES = ("resolved", "callback_needed", "no_answer", "voicemail", "transferred")
# What an agent checks on a call against the account; all three make the caller verified.
VERIFICATION_CHECKS = ("date_of_birth", "postcode_on_file", "last_payment_amount")
ACCOUNT_STATES = ("active", "locked", "disabled")
PROOF_METHODS = ("one_time_code", "call_checklist")
UNLOCK_STATES = ("queued", "running", "done", "failed")


class CallNote(SQLModel, table=True):
    """The structured part of a ``call_note`` message."""

    __tablename__ = "call_note"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    direction: str = Field(max_length=16)
    phone: str = Field(max_length=32)  # E.164
    identity_id: int = Field(foreign_key="customer_identity.id", index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    duration_seconds: int = 0
    outcome: str = Field(max_length=32)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    agent_id: int = Field(foreign_key="agent.id")
    identity_verified: bool = False
    verification_checks: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DirectoryAccount(SQLModel, table=True):
    """An account of the embedded directory: the default set-up and the demo data."""

    __tablename__ = "directory_account"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=64, unique=True)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    phone: str | None = Field(default=None, max_length=32, index=True)  # E.164
    status: str = Field(default="active", max_length=16)
    locked_reason: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DirectoryCode(SQLModel, table=True):
    """A one-time code the embedded directory sent to the contact on file. Hash only."""

    __tablename__ = "directory_code"
    __table_args__ = (Index("ix_directory_code_account_created", "account_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(max_length=64)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class IdentityProof(SQLModel, table=True):
    """Evidence, other than a From header, that the person on a ticket owns an account."""

    __tablename__ = "identity_proof"
    __table_args__ = (Index("ix_identity_proof_ticket_account", "ticket_id", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    account_id: str = Field(max_length=64)
    method: str = Field(max_length=32)
    agent_id: int = Field(foreign_key="agent.id")
    # The contact on file when the proof was taken: where the owner's notice goes.
    contact_email: str | None = Field(default=None, max_length=320)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class UnlockRequest(SQLModel, table=True):
    """One account unlock, from the agent's request to the account service's answer."""

    __tablename__ = "unlock_request"
    __table_args__ = (
        Index("ix_unlock_request_agent_created", "agent_id", "created_at"),
        Index("ix_unlock_request_account_created", "account_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=100, unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    account_id: str = Field(max_length=64)
    agent_id: int = Field(foreign_key="agent.id")
    proof_id: int = Field(foreign_key="identity_proof.id")
    reason: str = Field(max_length=1000)
    state: str = Field(default="queued", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
