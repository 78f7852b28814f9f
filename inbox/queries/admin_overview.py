"""What the administrators' landing page counts: how much of each thing the desk has."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from inbox.models import (
    Agent,
    BusinessCalendar,
    Channel,
    Macro,
    SlaPolicy,
    Team,
    TicketStatus,
)


@dataclass(frozen=True)
class AdminOverview:
    active_agents: int
    inactive_agents: int
    teams: int
    channels: int
    policies: int
    calendars: int
    statuses: int
    macros: int


def admin_overview(session: Session) -> AdminOverview:
    def count(model: type, *conditions: ColumnElement[bool]) -> int:
        return session.exec(select(func.count()).select_from(model).where(*conditions)).one()

    return AdminOverview(
        active_agents=count(Agent, col(Agent.is_active).is_(True)),
        inactive_agents=count(Agent, col(Agent.is_active).is_(False)),
        teams=count(Team),
        channels=count(Channel),
        policies=count(SlaPolicy, col(SlaPolicy.deleted_at).is_(None)),
        calendars=count(BusinessCalendar),
        statuses=count(TicketStatus),
        macros=count(Macro),
    )
