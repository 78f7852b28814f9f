"""Reads for administrators about who may sign in: the address throttles in force and the
API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from inbox.models import Agent, ApiToken, utcnow
from inbox.models.agents import SignInAttempt
from inbox.rules.sign_in_limits import ADDRESS_LIMITS


@dataclass(frozen=True)
class AddressThrottle:
    kind: str
    label: str  # what is counted: "failed sign-ins", "password reset requests"
    address: str  # an IPv4 address or an IPv6 /64
    attempts: int  # within the rule's window
    until: datetime  # when the address is answered again without lifting it


def address_throttles_in_force(session: Session) -> list[AddressThrottle]:
    """Every address that has used up its attempts of some kind, longest blocked first."""
    now = utcnow()
    found = []
    for rule in ADDRESS_LIMITS.values():
        recent = (
            col(SignInAttempt.kind) == rule.kind,
            col(SignInAttempt.created_at) > now - rule.window,
        )
        counted = session.exec(
            select(SignInAttempt.address, func.count())
            .where(*recent)
            .group_by(col(SignInAttempt.address))
            .having(func.count() >= rule.limit)
        ).all()
        for address, attempts in counted:
            # Blocked until the oldest of its last ``limit`` attempts leaves the window.
            blocking = session.exec(
                select(SignInAttempt.created_at)
                .where(*recent, col(SignInAttempt.address) == address)
                .order_by(col(SignInAttempt.created_at).desc())
                .offset(rule.limit - 1)
                .limit(1)
            ).one()
            found.append(
                AddressThrottle(rule.kind, rule.label, address, attempts, blocking + rule.window)
            )
    return sorted(found, key=lambda t: (t.until, t.kind, t.address), reverse=True)


@dataclass(frozen=True)
class TokenRow:
    id: int
    agent_email: str
    name: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "active"


def list_api_tokens(session: Session, *, agent_email: str | None = None) -> list[TokenRow]:
    """Every API token (never its value, which is not kept), newest first."""
    query = (
        select(ApiToken, Agent.email)
        .join(Agent, col(Agent.id) == ApiToken.agent_id)
        .order_by(col(ApiToken.id).desc())
    )
    if agent_email:
        query = query.where(Agent.email == agent_email.strip().lower())
    return [
        TokenRow(
            id=token.id or 0,
            agent_email=email,
            name=token.name,
            scope=token.scope,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )
        for token, email in session.exec(query).all()
    ]
