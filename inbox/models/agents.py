"""Agents, teams, sign-in sessions and throttling, API tokens and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

ROLES = ("agent", "manager", "admin")


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(default="agent", max_length=16)
    password_hash: str = Field(default="", max_length=200)
    is_active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    totp_secret_encrypted: str | None = Field(default=None, max_length=500)
    # The newest TOTP time step accepted: a code is good once, never replayed.
    totp_last_step: int | None = None
    # Besides managers and admins, agents who may unlock customer accounts (2FA is mandatory).
    may_unlock_accounts: bool = False
    # Set by ``inbox agent unlock``: until then the agent's sign-in passes the throttle of
    # their network address (someone else's failures from there must not keep them out).
    throttle_pass_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"

    team_id: int = Field(foreign_key="team.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)


class AgentSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; we keep only its hash."""

    __tablename__ = "agent_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    second_factor_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class RecoveryCode(SQLModel, table=True):
    """A two-factor recovery code: only its keyed hash is kept, and it works once."""

    __tablename__ = "agent_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class OneTimeCode(SQLModel, table=True):
    """A mailed secret: a sign-in code or a password reset link. Hashed, expiring, single use."""

    __tablename__ = "agent_one_time_code"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    purpose: str = Field(max_length=16)  # sign_in, password_reset
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class SignInAttempt(SQLModel, table=True):
    """A failed sign-in or a password reset request from one network address. Counted per
    address over a sliding window, in the database, so that every web process sees one count."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_kind_address_at", "kind", "address", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # sign_in_failed, password_reset
    address: str = Field(max_length=64)  # an IPv4 address or an IPv6 /64
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class SignInDevice(SQLModel, table=True):
    """A browser an agent has signed in with before, known by its device cookie (OWASP's
    device cookies): failures elsewhere never lock it out, its own failures lock it alone.
    The cookie is signed; only the hash of its random part is kept."""

    __tablename__ = "sign_in_device"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    nonce_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


TOKEN_SCOPES = ("read", "read-write")


class ApiToken(SQLModel, table=True):
    """A bearer token for ``/api/``: only its hash is kept. ``read`` tokens only read."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(default="read-write", max_length=16)
    name: str = Field(default="", max_length=100)
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    actor_label: str = Field(default="", max_length=200)
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
