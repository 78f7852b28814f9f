"""Reads for configuring the desk's people: teams with their members, agents with their
teams (the admin pages and the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inbox.models import Agent, Team, TeamMember, utcnow


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str
    role: str
    is_active: bool


@dataclass(frozen=True)
class TeamRow:
    id: int
    name: str
    members: list[Member]


@dataclass(frozen=True)
class StaffAgent:
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    teams: list[str]
    team_ids: list[int]
    has_totp: bool
    may_unlock_accounts: bool
    locked_until: datetime | None
    created_at: datetime


def list_team_rows(session: Session) -> list[TeamRow]:
    teams = session.exec(select(Team).order_by(col(Team.name))).all()
    members: dict[int, list[Member]] = {}
    for team_id, agent in session.exec(
        select(TeamMember.team_id, Agent)
        .join(Agent, col(Agent.id) == col(TeamMember.agent_id))
        .order_by(col(Agent.name))
    ):
        members.setdefault(team_id, []).append(
            Member(agent.id or 0, agent.name, agent.email, agent.role, agent.is_active)
        )
    return [TeamRow(t.id or 0, t.name, members.get(t.id or 0, [])) for t in teams]


def staff_agents(session: Session, agent_id: int | None = None) -> list[StaffAgent]:
    """Every agent (or the one of ``agent_id``) with the names of their teams, by address."""
    query = select(Agent).order_by(col(Agent.email))
    if agent_id is not None:
        query = query.where(Agent.id == agent_id)
    agents = session.exec(query).all()
    teams: dict[int, list[tuple[int, str]]] = {}
    for member_id, team_id, name in session.exec(
        select(TeamMember.agent_id, Team.id, Team.name)
        .join(Team, col(Team.id) == col(TeamMember.team_id))
        .order_by(col(Team.name))
    ):
        teams.setdefault(member_id, []).append((team_id or 0, name))
    now = utcnow()
    return [
        StaffAgent(
            id=a.id or 0,
            email=a.email,
            name=a.name,
            role=a.role,
            is_active=a.is_active,
            teams=[name for _, name in teams.get(a.id or 0, [])],
            team_ids=[team_id for team_id, _ in teams.get(a.id or 0, [])],
            has_totp=bool(a.totp_secret_encrypted),
            may_unlock_accounts=a.may_unlock_accounts,
            locked_until=a.locked_until if a.locked_until and a.locked_until > now else None,
            created_at=a.created_at,
        )
        for a in agents
    ]
