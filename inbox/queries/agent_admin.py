"""Reads for the administration pages: the agents and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inbox.models import Agent, AuditEvent, utcnow

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AgentRow:
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    locked_until: datetime | None
    has_totp: bool
    may_unlock_accounts: bool


def list_agents(session: Session) -> list[AgentRow]:
    now = utcnow()
    return [
        AgentRow(
            id=agent.id or 0,
            email=agent.email,
            name=agent.name,
            role=agent.role,
            is_active=agent.is_active,
            locked_until=agent.locked_until
            if agent.locked_until and agent.locked_until > now
            else None,
            has_totp=bool(agent.totp_secret_encrypted),
            may_unlock_accounts=agent.may_unlock_accounts,
        )
        for agent in session.exec(select(Agent).order_by(col(Agent.email))).all()
    ]


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    actions: list[str]  # every action recorded so far, for the filter
    next_before: int | None  # the ``before`` of the next (older) page, or None at the end


def audit_page(
    session: Session, *, action: str | None, before: int | None, limit: int = AUDIT_PAGE_SIZE
) -> AuditPage:
    """Newest first, ``limit`` at a time; ``before`` is an event id: keyset paging."""
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit + 1)
    if action:
        query = query.where(AuditEvent.action == action)
    if before is not None:
        query = query.where(col(AuditEvent.id) < before)
    events = list(session.exec(query).all())
    more = len(events) > limit
    events = events[:limit]
    actions = list(
        session.exec(select(AuditEvent.action).distinct().order_by(col(AuditEvent.action))).all()
    )
    return AuditPage(
        events=events,
        actions=actions,
        next_before=events[-1].id if more and events else None,
    )
