"""Reads for administrators about who may sign in: the API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inbox.models import Agent, ApiToken, utcnow


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
